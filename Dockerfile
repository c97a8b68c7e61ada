# The application image. `python worker.py` by default; docker-compose.yml also runs
# `python starter.py migrate` and `python starter.py serve` with it.

FROM python:3.11-slim AS wheel
WORKDIR /src
# The whole build context (less .dockerignore), so a new package needs no change here.
COPY . .
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    COACHFLOW_DATA_DIR=/var/lib/coachflow
RUN groupadd --system --gid 10001 coachflow \
    && useradd --system --uid 10001 --gid coachflow --home-dir /app --shell /usr/sbin/nologin coachflow \
    && mkdir -p /var/lib/coachflow/definitions/opportunities \
        /var/lib/coachflow/definitions/rubrics /var/lib/coachflow/definitions/surveys \
    && chown -R coachflow:coachflow /var/lib/coachflow
# The bundled definitions, where docker-compose.yml mounts the shared `definitions` volume:
# Docker copies them into that volume when it is new, and admins change them from there.
COPY --chown=10001:10001 opportunities/*.yaml /var/lib/coachflow/definitions/opportunities/
COPY --chown=10001:10001 rubrics/*.yaml rubrics/*.examples.jsonl /var/lib/coachflow/definitions/rubrics/
COPY --chown=10001:10001 surveys/*.yaml /var/lib/coachflow/definitions/surveys/
COPY --from=wheel /wheels /tmp/wheels
RUN pip install --no-cache-dir /tmp/wheels/*.whl && rm -rf /tmp/wheels
WORKDIR /app
COPY starter.py worker.py ./
USER 10001:10001
EXPOSE 8000
CMD ["python", "worker.py"]
