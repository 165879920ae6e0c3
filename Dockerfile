# The image deploy/ runs: `aiops` as the entrypoint, non-root (uid 10001, as the manifests'
# securityContext), read-only root filesystem friendly. No embedded stores in production
# (DATABASE_URL / REDIS_URL / QDRANT_URL point at real servers), so no `embedded` extra, and no
# simulators or demo (the separate aiops-sim distribution under sim/ is never copied in).
# The build stage is the full python image: it has the C compiler mypyc needs to compile the
# router's hot path (pyproject [tool.aiops].compiled, setup.py); the runtime stays slim. Both on
# the same Debian release, so the compiled modules meet the libraries they were built against.
FROM python:3.11-bookworm AS build
WORKDIR /src
# mypy as `make install` has it: mypyc type-checks with pyproject's [tool.mypy] settings.
RUN pip install --no-cache-dir "setuptools>=77" "mypy==2.4.1"
COPY pyproject.toml setup.py README.md ./
COPY kernel kernel
COPY tools tools
COPY app app
COPY handlers handlers
COPY aiops aiops
# The dependencies' wheels first (isolated builds), installed here so that mypyc sees their types
# (orjson's, say) as the tests' build does; then our own wheel, compiled.
RUN pip wheel --no-cache-dir --wheel-dir /wheels . \
 && pip install --no-cache-dir --no-index --find-links /wheels aiops \
 && rm /wheels/aiops-*.whl \
 && AIOPS_COMPILE=1 pip wheel --no-cache-dir --no-deps --no-build-isolation --wheel-dir /wheels .

FROM python:3.11-slim-bookworm
# The git SHA the image was built from (CI passes it): the agent version in every audit row.
# A build without it fails, so no image ever reports agent_version "dev" (or "unknown").
ARG GIT_SHA
RUN case "$GIT_SHA" in ""|dev|unknown) echo "build with --build-arg GIT_SHA=<git sha>" >&2; exit 1;; esac
LABEL org.opencontainers.image.revision=$GIT_SHA
RUN useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin aiops
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels aiops && rm -rf /wheels
# Writable paths live on the /data volume (emptyDir in deploy/base); everything else is read-only.
ENV AIOPS_AGENT_VERSION=$GIT_SHA \
    AIOPS_DATA_DIR=/data \
    MPLCONFIGDIR=/data/.matplotlib \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 10001:10001
# webhook, metrics, REST API/UI
EXPOSE 3000 9464 8080
ENTRYPOINT ["aiops"]
CMD ["serve"]
