"""Write or check ``functions/requirements.lock`` from the installed environment."""
