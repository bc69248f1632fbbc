"""python manage.py create_api_key NAME --scopes read,write  — prints the key once."""

from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError

from fulfillment.api.auth import api_client_create
from fulfillment.models import ApiScope


class Command(BaseCommand):
    help = "Create an API client and print its key (shown once; stored only as a hash)."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--scopes", default="read", help="Comma-separated: read, write.")

    def handle(self, *args, name: str, scopes: str, **options):
        wanted = [scope.strip() for scope in scopes.split(",") if scope.strip()]
        unknown = set(wanted) - set(ApiScope.values)
        if not wanted or unknown:
            raise CommandError(f"--scopes must be a comma-separated list of: {', '.join(ApiScope.values)}")
        if not name.strip() or len(name) > 100:
            raise CommandError("NAME must be 1 to 100 characters.")
        try:
            client, key = api_client_create(name=name.strip(), scopes=wanted)
        except IntegrityError:
            raise CommandError(f"An API client named {name!r} already exists.") from None
        self.stdout.write(f"Created API client {client.name!r} with scopes {', '.join(client.scopes)}.")
        self.stdout.write("Its key (shown once, store it now):")
        self.stdout.write(key)
