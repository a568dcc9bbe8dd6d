"""The signal work, done by ffmpeg: probing, measuring, normalising, encoding, drawing.

`ffmpeg.py` runs the processes (progress, cancellation); `analysis.py`
measures a file; `mastering.py` makes one master of a target. Nothing here
knows about jobs, HTTP or Letitia: functions take paths and return figures.
"""
