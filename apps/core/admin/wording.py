"""Django's own admin strings that our French catalogue re-words.

Django's French catalogue builds titles and messages around the model's name as if it were
a masculine noun after "objet" or "de": "Ajout de actualité", "L'objet travaux « … » a été
ajouté", "Ajouter un objet date supplémentaire supplémentaire". ``locale/fr`` translates the
msgids below with wording that reads right for every name ("Ajout : actualité"), and
``locale/en`` keeps Django's English. They are marked here (``gettext_noop``: nothing is
translated at import) so that ``makemessages`` keeps them in the catalogues; the admin itself
looks them up through Django's code, our catalogue coming first (``LOCALE_PATHS``).
"""

from django.utils.translation import gettext_noop, ngettext_lazy

DJANGO_ADMIN_MSGIDS = (
    gettext_noop("Add %s"),
    gettext_noop("Change %s"),
    gettext_noop("View %s"),
    gettext_noop("Add %(name)s"),
    gettext_noop("Add another %(verbose_name)s"),
    gettext_noop("Select %s to change"),
    gettext_noop("Select %s to view"),
    gettext_noop("The {name} “{obj}” was added successfully."),
    gettext_noop("The {name} “{obj}” was added successfully. You may edit it again below."),
    gettext_noop("The {name} “{obj}” was added successfully. You may add another {name} below."),
    gettext_noop("The {name} “{obj}” was changed successfully."),
    gettext_noop("The {name} “{obj}” was changed successfully. You may edit it again below."),
    gettext_noop("The {name} “{obj}” was changed successfully. You may add another {name} below."),
    gettext_noop("The %(name)s “%(obj)s” was deleted successfully."),
    gettext_noop("Added {name} “{object}”."),
    gettext_noop("Changed {fields} for {name} “{object}”."),
    gettext_noop("Change selected %(model)s"),
    gettext_noop("Add another %(model)s"),
    gettext_noop("Delete selected %(model)s"),
    gettext_noop("View selected %(model)s"),
    gettext_noop(
        'Are you sure you want to delete the %(object_name)s "%(escaped_object)s"? All of '
        "the following related items will be deleted:"
    ),
)
DJANGO_ADMIN_PLURALS = (
    ngettext_lazy(
        "%(count)s %(name)s was changed successfully.",
        "%(count)s %(name)s were changed successfully.",
        "count",
    ),
)
#: The singular msgids of ``DJANGO_ADMIN_PLURALS`` (tests/core/test_catalogues.py).
DJANGO_ADMIN_PLURAL_MSGIDS = ("%(count)s %(name)s was changed successfully.",)
