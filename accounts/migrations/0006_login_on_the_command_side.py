"""Logins move from the read database (a Django user per customer) to the ledger's `Login`, so that the read
model can be dropped and rebuilt. The ledger is migrated first (devstack does): its run copies the customers'
logins from the read database, whose run then deletes those users. E-mail addresses are not copied: they were
never verified.

Neither run opens the other database unless there are customers to move: connections are pooled, and a pool
opened while the test databases are being made would keep pointing at the database it was opened on."""

from django.db import connections, migrations, models

CUSTOMERS_USERS = "SELECT u.username, u.password, c.command_id FROM accounts_customer c JOIN auth_user u ON u.id = c.user_id"


def _customers_with_users(connection):
    with connection.cursor() as cursor:
        columns = [c.name for c in connection.introspection.get_table_description(cursor, "accounts_customer")]
        if "user_id" not in columns:
            return []
        cursor.execute(CUSTOMERS_USERS)
        return cursor.fetchall()


def copy_logins_from_the_read_database(apps, schema_editor):
    read_side = connections["default"]
    if "accounts_customer" not in read_side.introspection.table_names():
        return  # a new read database: nobody to move
    Login = apps.get_model("accounts", "Login")
    Login.objects.using(schema_editor.connection.alias).bulk_create(
        [Login(username=u, password=p, command_id=c) for u, p, c in _customers_with_users(read_side)],
        ignore_conflicts=True,
    )


def _moved_to_the_ledger(usernames):
    ledger = connections["ledger"]
    if "accounts_login" not in ledger.introspection.table_names():
        return set()
    with ledger.cursor() as cursor:
        cursor.execute("SELECT username FROM accounts_login WHERE username = ANY(%s)", [list(usernames)])
        return {row[0] for row in cursor.fetchall()}


def check_every_customer_moved(apps, schema_editor):
    customers = {username for username, _, _ in _customers_with_users(schema_editor.connection)}
    if customers and _moved_to_the_ledger(customers) != customers:
        raise RuntimeError("run `manage.py migrate --database=ledger` first: the customers' logins move there")


def forget_customers_users(apps, schema_editor):
    """The read database keeps no customer's password hash; staff users stay."""
    User = apps.get_model("auth", "User")
    users = User.objects.using(schema_editor.connection.alias).filter(is_staff=False, is_superuser=False)
    usernames = set(users.values_list("username", flat=True))
    if usernames:
        users.filter(username__in=_moved_to_the_ledger(usernames)).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0005_company_token_is_secret'),
    ]

    operations = [
        migrations.CreateModel(
            name='Login',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('username', models.CharField(max_length=150, unique=True)),
                ('password', models.CharField(help_text='a hash, never the password', max_length=128)),
                ('command_id', models.UUIDField(help_text='of their ConfirmAccountCreation: sent again at each login', unique=True)),
                ('alert_email', models.EmailField(blank=True, help_text='verified: alerts are mailed here', max_length=254)),
                ('unverified_email', models.EmailField(blank=True, help_text='asked for, waiting for its verification link', max_length=254)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
            ],
        ),
        migrations.RunPython(
            copy_logins_from_the_read_database, migrations.RunPython.noop, hints={"target_db": "ledger"}
        ),
        migrations.RunPython(check_every_customer_moved, migrations.RunPython.noop, hints={"target_db": "default"}),
        migrations.RemoveField(
            model_name='customer',
            name='email',
        ),
        migrations.RemoveField(
            model_name='customer',
            name='user',
        ),
        migrations.RunPython(forget_customers_users, migrations.RunPython.noop, hints={"target_db": "default"}),
    ]
