"""Attachments record the type detected from their content; existing ones are checked now.

A stored file is marked safe only when its content is a whitelisted type *and* its name has
that type's extension (media are served with the Content-Type of the name). Any other file
(HTML, script, unknown, missing, misnamed) keeps an empty ``content_type``: the API stops
listing it (``NewsAttachment.objects.safe()``) and the admin asks for a replacement.
"""

from django.core.files.storage import default_storage
from django.db import migrations, models


def check_existing(apps, schema_editor):
    from apps.news.attachments import BY_EXTENSION, attachment_type_detect

    attachment_model = apps.get_model("news", "NewsAttachment")
    for attachment in attachment_model.objects.exclude(file="").iterator():
        name = attachment.file.name
        try:
            with default_storage.open(name, "rb") as file:
                kind = attachment_type_detect(file)
        except OSError:
            continue  # missing file: stays unlisted
        extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if extension == "jpeg":
            extension = "jpg"
        if kind is not None and BY_EXTENSION.get(extension) == kind:
            attachment_model.objects.filter(pk=attachment.pk).update(content_type=kind.content_type)


class Migration(migrations.Migration):
    dependencies = [
        ("news", "0004_search_documents"),
    ]

    operations = [
        migrations.AddField(
            model_name="newsattachment",
            name="content_type",
            field=models.CharField(
                blank=True, editable=False, max_length=100, verbose_name="type détecté"
            ),
        ),
        migrations.RunPython(check_existing, migrations.RunPython.noop, elidable=True),
    ]
