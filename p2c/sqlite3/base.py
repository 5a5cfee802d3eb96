"""Django's SQLite backend, told how many query parameters this SQLite really takes.

Django 5.2 assumes SQLite's old limit of 999 parameters, which cuts a bulk insert of a 40-column table into
batches of 24 rows. SQLite 3.32 and later take 32,766: with the real limit a batch holds hundreds of rows.
"""

import sqlite3

from django.db.backends.sqlite3 import base, features
from django.utils.functional import cached_property


class DatabaseFeatures(features.DatabaseFeatures):
    @cached_property
    def max_query_params(self):
        return 32766 if sqlite3.sqlite_version_info >= (3, 32) else 999


class DatabaseWrapper(base.DatabaseWrapper):
    features_class = DatabaseFeatures
