"""How local code authenticates: Application Default Credentials, one step per kind (as google-auth has
one module per credential kind). Whatever its kind the step is named `credentials`; `modes.py`'s
`credentials_step` picks the kind `--credentials` names:

- user (user.py): the person's own ADC; nothing is written.
- impersonate (impersonation.py): Token Creator on the service account, and an impersonated ADC file.
- key-file (key_file.py): a service-account key file (only with --allow-key-file).
- none: nothing.

Every kind publishes `mode`, and `credentials_file` when it writes one (what GOOGLE_APPLICATION_CREDENTIALS
names in the .env).
"""
