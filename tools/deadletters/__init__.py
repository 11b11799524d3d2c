"""Dead-letter operations: list, show, redrive (to the failed agent only) and purge.

Google Cloud has no redrive for Pub/Sub dead letters; this is Switchboard's. It works
against the emulators (``PUBSUB_EMULATOR_HOST``, or the running local platform) and, with
Application Default Credentials, against a real project.
"""
