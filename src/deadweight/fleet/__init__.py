"""A fleet: many images, analysed once per unique layer, summed up.

Pure values and the arithmetic over them: :mod:`figures` (what one image's analysis says,
in a few numbers), :mod:`layers` (what one unique layer holds that matters across
images), :mod:`tally` (the fleet report, built as images and layers arrive) and
:mod:`changes` (what grew and shrank since a previous report). Reading layers, and the
cluster that does it, live in :mod:`deadweight.cluster`.
"""
