"""The terminal explorer (``deadweight explore``): ``model`` is the data, ``app`` the
Textual application. Textual is an optional dependency (``deadweight[explore]``)."""
