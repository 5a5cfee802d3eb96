"""What the field-check tests compare: how a validator answers a value."""

from django.core.exceptions import ValidationError


def outcomes(value, *validators):
    """"passed" or "refused" for each of ``validators`` (called as Django calls ``Field.clean``) on ``value``."""
    answers = []
    for validate in validators:
        try:
            validate(value, None)
            answers.append("passed")
        except ValidationError:
            answers.append("refused")
    return answers
