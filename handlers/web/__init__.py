"""The Web UI, served by the API process at `/`: Keycloak login (authorization code + PKCE with the
public client), tokens kept server-side in a Redis session referenced by a signed HttpOnly cookie,
CSRF on every state-changing request, a strict Content-Security-Policy, and plain pages with a
little JavaScript — no CDN. `/ui/api/…` are the REST endpoints behind the session instead of a
bearer header, so the UI is exactly as safe as the API. Modules: `session`, `login`, `pages`."""
