"""Audio previews of clips, rendered offline by FluidSynth with a General MIDI SoundFont.

Modules: errors (RenderError), soundfont (finding a .sf2), fluidsynth_render (Clip -> WAV).
Nothing here imports FluidSynth at import time; render_clip imports it when first called.
"""

from bridge.render.errors import RenderError
from bridge.render.fluidsynth_render import (
    MAX_RENDER_SECONDS,
    import_fluidsynth,
    render_clip,
)
from bridge.render.soundfont import SOUNDFONT_SEARCH_PATHS, find_soundfont

__all__ = [
    "MAX_RENDER_SECONDS",
    "SOUNDFONT_SEARCH_PATHS",
    "RenderError",
    "find_soundfont",
    "import_fluidsynth",
    "render_clip",
]
