from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("forecasts", "0002_leaderboard_entry"),
    ]

    operations = [
        migrations.AddField(
            model_name="crowdpoint",
            name="through_forecast_id",
            field=models.BigIntegerField(
                blank=True,
                help_text="The highest forecast id the history held when this point was written: the "
                "incremental crowd update appends only for forecasts after it.",
                null=True,
            ),
        ),
    ]
