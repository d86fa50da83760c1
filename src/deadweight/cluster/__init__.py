"""A fleet scan run on a cluster: find the images, read each unique layer once on Dask
workers, assemble every image from its layers' results.

:mod:`collection` turns SOURCE arguments into opened images (manifests and configs only),
:mod:`work` is what a worker runs for one layer, :mod:`runners` sends that work to Dask
(or runs it in this process), :mod:`scan` ties them together into a
:class:`deadweight.fleet.tally.Fleet`.
"""
