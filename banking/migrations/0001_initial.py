from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [("transfers", "0006_pending_answers_move_to_banking")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="PendingAnswer",
                    fields=[
                        ("command_id", models.UUIDField(primary_key=True, serialize=False)),
                        ("events", models.SmallIntegerField(help_text="how many events the command caused")),
                        ("answer", models.JSONField()),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                    ],
                ),
            ],
            database_operations=[],  # the table came from transfers, renamed
        ),
        migrations.CreateModel(
            name="InputPosition",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("consumer", models.CharField(max_length=200)),
                ("topic", models.CharField(max_length=249)),
                ("partition", models.IntegerField()),
                ("start", models.BigIntegerField(help_text="the first offset of the last batch")),
                ("end", models.BigIntegerField(help_text="the offset after the last batch")),
                (
                    "published_to",
                    models.BigIntegerField(help_text="the offset up to which the output is known to be in Kafka"),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("consumer", "topic", "partition"), name="one_position_per_partition"
                    )
                ],
            },
        ),
    ]
