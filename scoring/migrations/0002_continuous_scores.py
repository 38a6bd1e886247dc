# Numeric and date questions (issue 15): the CRPS family of scores beside the Brier family.
#
# Every operation keeps the existing rows: the new columns are nullable or get a default (0) that
# is right for every existing row (no numeric or date question has been scored before this), the
# columns made nullable keep their values, and every existing row passes the new checks (it has
# the Brier trio and no CRPS figures; crps_questions 0 <= questions).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("scoring", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="score",
            name="crps_final",
            field=models.FloatField(help_text="Numeric/date: CRPS (range units) of the final forecast.", null=True),
        ),
        migrations.AddField(
            model_name="score",
            name="crps_mean",
            field=models.FloatField(help_text="Numeric/date: time-averaged CRPS over active time.", null=True),
        ),
        migrations.AddField(
            model_name="score",
            name="relative_crps",
            field=models.FloatField(help_text="Numeric/date: CRPS relative to the crowd median's.", null=True),
        ),
        migrations.AlterField(
            model_name="score",
            name="relative_brier",
            field=models.FloatField(help_text="Null on a numeric or date question.", null=True),
        ),
        migrations.AddConstraint(
            model_name="score",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("crps_final__isnull", True),
                        ("crps_mean__isnull", True),
                        ("relative_brier__isnull", False),
                        ("relative_crps__isnull", True),
                    ),
                    models.Q(
                        ("brier_final__isnull", True),
                        ("brier_mean__isnull", True),
                        ("relative_crps__isnull", False),
                        ("relative_brier__isnull", True),
                    ),
                    _connector="OR",
                ),
                name="score_brier_or_crps",
            ),
        ),
        migrations.AddConstraint(
            model_name="score",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("crps_final__isnull", True),
                    models.Q(("crps_final__gte", 0), ("crps_final__lte", 1)),
                    _connector="OR",
                ),
                name="score_crps_final_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="score",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("crps_mean__isnull", True),
                    models.Q(("crps_mean__gte", 0), ("crps_mean__lte", 1)),
                    _connector="OR",
                ),
                name="score_crps_mean_range",
            ),
        ),
        migrations.AddField(
            model_name="leaderboardentry",
            name="crps_questions",
            field=models.PositiveIntegerField(default=0, help_text="Numeric and date questions among `questions`."),
        ),
        migrations.AddField(
            model_name="leaderboardentry",
            name="relative_crps_sum",
            field=models.FloatField(default=0.0),
        ),
        migrations.AddField(
            model_name="leaderboardentry",
            name="relative_crps_mean",
            field=models.FloatField(null=True),
        ),
        migrations.AlterField(
            model_name="leaderboardentry",
            name="relative_brier_mean",
            field=models.FloatField(null=True),
        ),
        migrations.AlterField(
            model_name="leaderboardentry",
            name="relative_brier_mean_ci_low",
            field=models.FloatField(null=True),
        ),
        migrations.AlterField(
            model_name="leaderboardentry",
            name="relative_brier_mean_ci_high",
            field=models.FloatField(null=True),
        ),
        migrations.AddConstraint(
            model_name="leaderboardentry",
            constraint=models.CheckConstraint(
                condition=models.Q(("crps_questions__lte", models.F("questions"))),
                name="leaderboard_entry_crps_questions",
            ),
        ),
    ]
