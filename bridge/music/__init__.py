"""The clip model: notes in beats, MIDI files, NoteSequences, Magenta's steps and melodies, keys.

Modules: clip (Note, Clip), errors (ClipError), midi, notesequence, timing, quantize, melody,
scales, polyphony (Magenta's polyphonic event sequences). Nothing here imports note_seq at
import time; notesequence imports it when first used.
"""
