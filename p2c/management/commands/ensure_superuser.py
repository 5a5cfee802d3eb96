"""Create the first superuser once, with a random password printed once (or DJANGO_SUPERUSER_PASSWORD)."""

import os
import secrets

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.utils.translation import gettext

from p2c.management.arguments import text


class Command(BaseCommand):
    help = gettext(
        "Create a superuser if none exists. The password is random and printed once, unless given in DJANGO_SUPERUSER_PASSWORD."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", type=text, default=os.environ.get("DJANGO_SUPERUSER_USERNAME", "admin"))
        parser.add_argument("--email", type=text, default=os.environ.get("DJANGO_SUPERUSER_EMAIL", "admin@example.com"))

    def handle(self, *args, username, email, **options):
        User = get_user_model()
        checks = [("--username", username, lambda value: User._meta.get_field(User.USERNAME_FIELD).clean(value, None))]
        if email:
            checks.append(("--email", email, validate_email))
        for option, value, check in checks:
            try:
                check(value)
            except ValidationError as exc:
                raise CommandError(f"{option} {value!r}: {' '.join(exc.messages)}") from exc
        if User.objects.filter(is_superuser=True).exists():
            self.stdout.write(gettext("A superuser already exists; its password is unchanged."))
            return
        given = os.environ.get("DJANGO_SUPERUSER_PASSWORD")
        password = given or secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, email=email, password=password)
        if given:
            self.stdout.write(
                self.style.SUCCESS(
                    gettext("Superuser %(username)s created with DJANGO_SUPERUSER_PASSWORD.")
                    % {"username": repr(username)}
                )
            )
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    gettext("Superuser created. Log in as %(username)s with password %(password)s (shown this once).")
                    % {"username": repr(username), "password": repr(password)}
                )
            )
