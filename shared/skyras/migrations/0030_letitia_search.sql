-- Letitia's search (DESIGN.md section 4): a weighted tsvector kept by a
-- trigger, a GIN index over it, and a trigram index for fuzzy filenames.
--
-- Weights: A filename words and title, B tags, C description. The 'simple'
-- configuration keeps names and tags as written (no stemming, no stop words);
-- title and description also get 'english' lexemes so "vocal" finds "vocals".

-- "MixdownFinal_v2.wav" -> "mixdown final v2 wav": the name's words, split
-- on punctuation and camel case.
CREATE FUNCTION letitia_filename_words(name text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
    SELECT lower(
        regexp_replace(
            regexp_replace(
                regexp_replace(name, '([[:lower:][:digit:]])([[:upper:]])', '\1 \2', 'g'),
                '([[:upper:]]+)([[:upper:]][[:lower:]])', '\1 \2', 'g'),
            '[^[:alnum:]]+', ' ', 'g'))
$$;

CREATE FUNCTION letitia_files_search_vector() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_vector :=
        setweight(to_tsvector('simple', letitia_filename_words(NEW.filename)), 'A')
        || setweight(to_tsvector('simple', coalesce(NEW.title, '')), 'A')
        || setweight(to_tsvector('english', coalesce(NEW.title, '')), 'A')
        || setweight(to_tsvector('simple', array_to_string(NEW.tags, ' ')), 'B')
        || setweight(to_tsvector('simple', coalesce(NEW.description, '')), 'C')
        || setweight(to_tsvector('english', coalesce(NEW.description, '')), 'C');
    RETURN NEW;
END
$$;

ALTER TABLE files ADD COLUMN search_vector tsvector NOT NULL DEFAULT ''::tsvector;

CREATE TRIGGER files_search_vector
    BEFORE INSERT OR UPDATE OF filename, title, description, tags ON files
    FOR EACH ROW EXECUTE FUNCTION letitia_files_search_vector();

-- Rows written before this migration get their vector now.
UPDATE files SET filename = filename;

CREATE INDEX files_search_vector_idx ON files USING gin (search_vector);
CREATE INDEX files_filename_trgm_idx ON files USING gin (filename gin_trgm_ops);
CREATE INDEX files_storage_key_idx ON files (storage_key) WHERE storage_key IS NOT NULL;
