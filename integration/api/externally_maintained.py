"""The API side of SPEC P5: a serializer mixin that refuses edits of the Sales-maintained fields of an externally
maintained ERP record with a 400 naming each field (see integration.externally_maintained)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers


class ExternallyMaintainedSerializerMixin:
    def validate(self, attrs):
        attrs = super().validate(attrs)
        from integration.externally_maintained import externally_maintained_changes_refuse

        try:
            externally_maintained_changes_refuse(instance=self.instance, changes=attrs)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict, code="externally_maintained") from None
        return attrs
