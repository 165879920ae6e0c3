"""The REST API (`aiops api`, AIOPS_API_PORT): the seed's third surface beside Slack.

Bearer JWTs are verified here, by the app itself, against the realm's JWKS (never trusting identity
headers, even behind Kong). Questions go through the same queue to the same workers — agent,
router, budget and audit — as a Slack question; the answer streams back (`app.api_answers`).
Modules: `problems` (RFC 9457 errors), `auth` (bearer → principal), `limits` (per-user rate
limit, body size, JSON depth), `ask`, `reads` (whoami, conversations, investigations, audit),
`openapi` (the document and the docs page), `app` (assembly).
"""
