-- Letitia links files to a new task when the task names them (handlers.py):
-- look the named filenames and stems up by index instead of scanning files.
CREATE INDEX files_lower_filename_idx ON files (lower(filename));
CREATE INDEX files_lower_stem_idx ON files (lower(regexp_replace(filename, '\.[^.]*$', '')));
