"""The site's address, and knowledge references (``/approche/``) turned into links."""

SITE = "https://beta.gouv.fr"


def to_url(ref: str) -> str:
    """A site path (``/approche/``) as its public URL; a full URL is kept as it is."""
    return SITE + ref if ref.startswith("/") else ref
