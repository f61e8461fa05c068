-- experiments/demo.lua: what `make demo` runs.
--
-- For now the engine tour (experiments/tensor_tour.lua); the full demo
-- (synthetic dataset, semi-supervised TCN training, video prediction,
-- labeled video) replaces it as those parts land.
--
-- Run: build/lpose run experiments/demo.lua
local here = (arg and arg[0] or 'experiments/demo.lua'):match('^(.*)/[^/]*$') or '.'
dofile(here .. '/tensor_tour.lua')
