"""Team memory: notes a team teaches the bot (`/aiops remember`), handed to the model as data for
askers whose scope covers them, and the feedback (👍/👎) read back to admins for review."""
