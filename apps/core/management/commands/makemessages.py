"""``makemessages`` without fuzzy matching: a new msgid starts untranslated, never with the
translation of a similar one marked fuzzy (which compilemessages leaves out, so the English
interface would silently show French). Django documents overriding ``msgmerge_options``."""

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    msgmerge_options = [*makemessages.Command.msgmerge_options, "--no-fuzzy-matching"]
