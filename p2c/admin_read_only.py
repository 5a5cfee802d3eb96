"""Admin screens of tables the system writes (a log, an inbox): to look at, never to add, change or delete by hand."""


class ReadOnlyAdminMixin:
    """No add, change or delete permission, whoever asks: the rows are written by the system alone."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
