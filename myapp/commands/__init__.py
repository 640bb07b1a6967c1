"""Command-line tools, one module each, added to the `flask` command by register()."""


def register(app):
    """Add the app's commands to the `flask` command (the README's "Command line" lists them)."""
    from .accounts import create_admin, create_token
    from .backup import backup
    from .maintenance import check_db, invalidate_caches, vacuum
    from .recount import recount
    from .restore import restore
    from .seed import seed

    for command in (
        seed,
        backup,
        restore,
        vacuum,
        check_db,
        recount,
        invalidate_caches,
        create_admin,
        create_token,
    ):
        app.cli.add_command(command)
