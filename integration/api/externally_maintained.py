"""The API side of docs/features.md P5: a serializer mixin that refuses edits of the Sales-maintained fields of an
externally maintained ERP record with a 400 naming each field (see integration.fo.externally_maintained)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from integration.fo.externally_maintained import externally_maintained_changes_refuse


class ExternallyMaintainedSerializerMixin:
    # run_validation, not validate: it runs after the serializer's own validate(), which need not call super().
    def run_validation(self, data=serializers.empty):
        attrs = super().run_validation(data)
        try:
            cache = self.context.setdefault("externally_maintained_fields", {})
            externally_maintained_changes_refuse(instance=self.instance, changes=attrs, cache=cache)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict, code="externally_maintained") from None
        return attrs
