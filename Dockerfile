# runner in a container: `docker build -t runner .` then
#   docker run --rm -v "$PWD:/work" runner run playbooks/hello.yaml
# Core only by default; extras at build time: docker build --build-arg EXTRAS=scale,ui -t runner .
# (docs/install.md; not built on the machine this was written on: no Docker engine there)
ARG PYTHON=3.12

# -- build: the wheel, from the checkout (setup.py maps plugins/ and schemas/ into it) --------
FROM python:${PYTHON}-slim AS build
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY runner/ runner/
COPY plugins/ plugins/
COPY schemas/ schemas/
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

# -- run: the wheel installed with its dependencies into a venv, run by a user without root ---
FROM python:${PYTHON}-slim
ARG EXTRAS=""
# PYTHONDONTWRITEBYTECODE: Python writes no .pyc when it imports; pip still byte-compiles
# what it installs below, so every start reads them (docs/design.md, "Start-up without
# the bytecode cache")
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/opt/runner/bin:$PATH \
    XDG_STATE_HOME=/home/runner/.local/state
COPY --from=build /wheels /wheels
RUN python -m venv /opt/runner \
 && wheel="$(ls /wheels/runner-*.whl)" \
 && /opt/runner/bin/pip install --no-cache-dir "${wheel}${EXTRAS:+[$EXTRAS]}" \
 && rm -rf /wheels \
 && useradd --create-home --uid 10001 --shell /usr/sbin/nologin runner
USER 10001:10001
WORKDIR /work
ENTRYPOINT ["runner"]
CMD ["--help"]
