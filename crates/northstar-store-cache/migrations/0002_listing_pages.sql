-- Listings are sealed a page at a time (up to a few hundred cases a page)
-- instead of a row each: a list or a search reads and opens every listing,
-- and at 100,000 cases reading 100,000 rows cost more than opening them.
-- A case row names the page holding its listing; the page is rewritten
-- whenever one of its listings changes, in the same transaction as the row.
--
-- The rows written before this have no page: they are dropped, and the next
-- sync fetches and verifies the cases again. The remembered heads stay, so
-- a server that serves less is still caught.
DROP TABLE listings;
DELETE FROM cases;
ALTER TABLE cases ADD COLUMN listing_page INTEGER NOT NULL DEFAULT 0 CHECK (listing_page >= 0);

CREATE TABLE listing_pages (
    page   INTEGER NOT NULL PRIMARY KEY CHECK (page >= 0),
    -- How many cases the page lists, so a sync can tell whether to add to
    -- it without opening it. The case rows say as much.
    listed INTEGER NOT NULL CHECK (listed > 0),
    sealed BLOB    NOT NULL
) STRICT;
