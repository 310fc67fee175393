"""The file store in the app: the configured store of the current app, and a download
response for a stored file (the stores themselves are in actions/filestore.py)."""
from flask import abort, current_app, redirect, send_file

from actions.filestore import store_for


def avatar_store():
    return store_for(current_app.config, "avatars")


def file_store():
    return store_for(current_app.config, "files")


def download_response(key, filename, *, store=None, mimetype=None):
    """Send a stored file: a redirect to the bucket's signed URL, or streamed by us."""
    store = store or file_store()
    url = store.url(key, filename)
    if url:  # a link the bucket signed for this file: the redirect guard lets it through
        response = redirect(url)
        response.signed_file_url = True
        return response
    try:
        data = store.open(key)
    except FileNotFoundError:
        abort(404)
    response = send_file(data, as_attachment=True, download_name=filename, mimetype=mimetype)
    response.headers["Cache-Control"] = "private, no-store"
    return response
