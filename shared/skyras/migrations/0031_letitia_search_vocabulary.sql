-- Letitia's fuzzy search, made fast (bench/search.py): instead of comparing
-- the query with every filename by trigram similarity (a recheck of each of
-- thousands of index candidates), the query's words are compared with the
-- distinct words of all filenames (a small table, trigram-indexed), and the
-- close ones are searched for with the full-text index.
--
-- Words are only ever added (a word whose files are all gone stays; it then
-- simply finds nothing). They are inserted sorted, so two uploads that add
-- the same new words wait for each other in the same order, never deadlock.

CREATE TABLE letitia_vocabulary (
    word text PRIMARY KEY
);
CREATE INDEX letitia_vocabulary_trgm_idx ON letitia_vocabulary USING gin (word gin_trgm_ops);

CREATE FUNCTION letitia_add_filename_words() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO letitia_vocabulary (word)
    SELECT DISTINCT w
    FROM regexp_split_to_table(letitia_filename_words(NEW.filename), ' ') AS w
    WHERE char_length(w) >= 3
    ORDER BY w
    ON CONFLICT (word) DO NOTHING;
    RETURN NULL;
END
$$;

CREATE TRIGGER files_vocabulary
    AFTER INSERT OR UPDATE OF filename ON files
    FOR EACH ROW EXECUTE FUNCTION letitia_add_filename_words();

INSERT INTO letitia_vocabulary (word)
SELECT DISTINCT w
FROM files, regexp_split_to_table(letitia_filename_words(files.filename), ' ') AS w
WHERE char_length(w) >= 3
ON CONFLICT (word) DO NOTHING;
