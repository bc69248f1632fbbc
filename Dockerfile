# Fulfillment Desk: one image for web (gunicorn), worker and beat.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=fulfillment.settings FD_DATA_DIR=/app/var DJANGO_STATIC_ROOT=/app/staticfiles

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
RUN python scripts/messages.py compile
# Hashed, compressed static files for whitenoise. The key below exists only for this build step.
RUN DJANGO_SECRET_KEY=build-only-not-used-at-runtime DJANGO_ALLOWED_HOSTS=build \
    python manage.py collectstatic --noinput \
 && useradd --system --home /app desk && mkdir -p /app/var && chown -R desk /app/var
USER desk
EXPOSE 8000
CMD ["gunicorn", "fulfillment.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
