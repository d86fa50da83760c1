"""Running images to learn about them and to prove a result: the workflows that join the
engine (``sources.containers``, ``sources.fanotify``) with the pure domain (``optimize``,
``minify``).

``verify`` runs an original and a transformed image the same way and compares them
(optimize's ``--verify``); ``exercise`` starts one image with ``docker run``'s options,
drives its probes and, when asked, traces what it opens; ``shrink`` is ``minify``'s
workflow: trace, plan, apply, prove, repair once, write.
"""
