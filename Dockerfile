FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY pyproject.toml README.md ./
COPY activities activities
COPY domain domain
COPY examples examples
COPY intake intake
COPY opportunities opportunities
COPY redaction redaction
COPY rubrics rubrics
COPY service service
COPY store store
COPY surveys surveys
COPY web web
COPY workflows workflows
COPY starter.py worker.py ./
RUN pip install --no-cache-dir .
CMD ["python", "worker.py"]
