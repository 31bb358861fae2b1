# Magenta Bridge, CPU image: the daemon with its bundled models, serving OSC (UDP and TCP
# 11300) and HTTP (11380: /v1/health, /metrics) on the container's interfaces, with a token.
#
#   docker build -t magenta-bridge .
#   docker run -d --init -e MAGENTA_BRIDGE_TOKEN=$(openssl rand -hex 24) \
#     -p 127.0.0.1:11300:11300/udp -p 127.0.0.1:11300:11300/tcp -p 127.0.0.1:11380:11380 \
#     -v magenta-data:/var/lib/magenta-bridge/data -v magenta-models:/var/lib/magenta-bridge/models \
#     magenta-bridge
#
# docs/deployment.md has the details; Dockerfile.cuda is the GPU image.
# PYTHON_IMAGE: any Debian bookworm image with python3 >= 3.11 and its venv module (a mirror's
# copy of python:3.11-slim-bookworm, say). Builder and runtime must share it: the venv's
# python is a link to the base image's.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
# setup.sh pins the same version. PyPI's torch for Linux x86_64 is the CUDA build (it depends
# on cuda-toolkit and nvidia-* wheels, several GB): the CPU wheel (2.13.0+cpu) comes from
# PyTorch's CPU index, installed on its own before the package, and the build fails if any
# CUDA library came along.
ARG TORCH_VERSION=2.13.0
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH
RUN python3 -m venv /opt/venv \
 && pip install --index-url "$TORCH_INDEX_URL" "torch==${TORCH_VERSION}" \
 && python -c "import torch; assert torch.version.cuda is None, 'CUDA torch ' + torch.__version__"

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bridge ./bridge
# Editable, so the code keeps the checkout's layout the CLI expects (config/, models/ beside
# bridge/ under /app); the runtime stage copies /app and /opt/venv to the same paths.
RUN pip install -e . \
 && python -c "import importlib.metadata as m, sys; cuda = sorted(d.name for d in m.distributions() if d.name.lower().startswith(('nvidia-', 'cuda-', 'triton'))); sys.exit(f'CUDA packages in a CPU image: {cuda}' if cuda else 0)"

FROM ${PYTHON_IMAGE} AS runtime
# libfluidsynth3 and a General MIDI SoundFont render audio previews; libasound2 is what
# python-rtmidi links against (imported even with MIDI off); ca-certificates for
# `magenta-bridge models fetch` over https.
# The distribution's current versions: pinned ones would break as its archive moves on.
# hadolint ignore=DL3008
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates libasound2 libfluidsynth3 timgm6mb-soundfont \
 && rm -rf /var/lib/apt/lists/*
# A fixed numeric user, so Kubernetes can check runAsNonRoot and volumes can be owned by it.
# New named volumes take the ownership of the folders they are mounted on.
RUN groupadd --gid 10001 magenta \
 && useradd --uid 10001 --gid magenta --no-create-home --home-dir /var/lib/magenta-bridge \
      --shell /usr/sbin/nologin magenta \
 && mkdir -p /var/lib/magenta-bridge/data /var/lib/magenta-bridge/models \
 && chown -R magenta:magenta /var/lib/magenta-bridge

COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /app /app
COPY config /app/config
COPY models/pretrained /app/models/pretrained
COPY deploy/container/entrypoint.py /app/deploy/container/entrypoint.py
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HOME=/var/lib/magenta-bridge \
    MPLCONFIGDIR=/tmp/matplotlib
# The daemon imports here, its native libraries found, and every bundled model is in place.
RUN python -c "import bridge.frontends.daemon" \
 && magenta-bridge --config /app/config/container.yaml models >/tmp/models.txt \
 && ! grep MISSING /tmp/models.txt && rm /tmp/models.txt

USER 10001:10001
WORKDIR /var/lib/magenta-bridge
VOLUME ["/var/lib/magenta-bridge/data", "/var/lib/magenta-bridge/models"]
# OSC over UDP and TCP (osc.port), HTTP health and metrics (the HTTP port).
EXPOSE 11300/udp 11300/tcp 11380/tcp
# 200 {"status":"ok"} passes; 503 (degraded) and no answer fail. Loading the models on a slow
# CPU takes a while, hence the start period.
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:11380/v1/health', timeout=4)"]
ENTRYPOINT ["python", "/app/deploy/container/entrypoint.py"]
CMD ["serve"]
