// The compliance charts (uPlot): filled in by the deputy pages.
