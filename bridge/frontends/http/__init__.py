"""HTTP: the REST API, Server-Sent Events, the web page and /metrics, in the daemon.

Modules: app (the routes), submission (POST /v1/jobs bodies into engine requests), jobs
(job views, the listener of HTTP jobs, event streams), guard (tokens, hosts, origins),
problems (errors as RFC 9457 problem details), schemas (the JSON shapes), server (uvicorn on
a thread of the daemon), docs (docs/http-api.md from the app).
"""
