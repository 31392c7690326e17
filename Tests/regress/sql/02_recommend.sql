-- Register the sample shop, train, recommend and explain.
SELECT recommender.register('default', 'shop.events', 'customer_id', 'product_id',
         time_column => 'occurred_at', event_column => 'event_type',
         event_weights => '{"view": 1, "cart": 3, "purchase": 5}',
         items => 'shop.products', item_id_column => 'product_id',
         category_column => 'category', title_column => 'title');
SET client_min_messages = warning;
SELECT model, version > 0 AS has_version, users >= 2500 AS users_ok, items >= 900 AS items_ok,
       interactions >= 50000 AS interactions_ok, seconds > 0 AS timed
  FROM recommender.train('default');
RESET client_min_messages;
SELECT model, trained, users_in_model_ok
  FROM (SELECT model, trained, items_in_model > 900 AS users_in_model_ok FROM recommender.list()) l;
SELECT key, value FROM recommender.status('default') WHERE key IN ('model', 'registration', 'trained', 'items');

-- the most active customer, and one with a modest history
SELECT customer_id AS heavy FROM shop.events GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1 \gset
SELECT customer_id AS light FROM shop.events GROUP BY 1 HAVING count(DISTINCT product_id) BETWEEN 5 AND 8 ORDER BY 1 LIMIT 1 \gset

-- k rows, ranked 1..k, best first, no duplicates, model-sourced, pure relevance at diversity 0
SELECT count(*) AS n, min(rank) AS first, max(rank) AS last, count(DISTINCT item_id) AS distinct_items,
       bool_and(rank = relevance_rank) AS relevance_order, bool_and(NOT for_variety) AS none_for_variety,
       bool_and(source = 'model') AS from_model
  FROM recommend(:light, 10, 0);
SELECT bool_and(score >= next_score) AS best_first
  FROM (SELECT score, lead(score) OVER (ORDER BY rank) AS next_score FROM recommend(:heavy, 20, 0)) s
 WHERE next_score IS NOT NULL;
-- defaults: k = 10, diversity = 0
SELECT count(*) FROM recommend(:light);
-- items the customer already has are left out
SELECT count(*) AS already_seen
  FROM recommend(:heavy, 100, 0) r
 WHERE EXISTS (SELECT 1 FROM shop.events e WHERE e.customer_id = :heavy AND e.product_id = r.item_id);
-- real structure: most recommendations fall in the customer's own top categories
WITH fav AS (
  SELECT p.category FROM shop.events e JOIN shop.products p USING (product_id)
   WHERE e.customer_id = :light GROUP BY p.category ORDER BY count(*) DESC, p.category LIMIT 3)
SELECT count(*) FILTER (WHERE p.category IN (SELECT category FROM fav)) >= 6 AS mostly_favourite_categories
  FROM recommend(:light, 10, 0) r JOIN shop.products p ON p.product_id = r.item_id;

-- explain: the parts add up to the score recommend() reports, for every recommended item
SELECT count(*) AS items_checked,
       bool_and(abs(x.total - r.score) <= 1e-9 * greatest(abs(r.score), 1e-12)) AS parts_add_up,
       bool_and(abs(x.score_row - r.score) <= 1e-9 * greatest(abs(r.score), 1e-12)) AS same_score,
       bool_and(abs(x.shares - 1) < 1e-9) AS shares_sum_to_one
  FROM recommend(:heavy, 10, 0) r,
       LATERAL (SELECT sum(contribution) FILTER (WHERE role = 'because') AS total,
                       sum(share) FILTER (WHERE role = 'because') AS shares,
                       max(contribution) FILTER (WHERE role = 'score') AS score_row
                  FROM explain(:heavy, r.item_id)) x;
-- explain names only the customer's own items, with titles, and says where the item ranks
SELECT item_id AS top FROM recommend(:light, 1, 0) \gset
SELECT role, (SELECT count(*) FROM shop.events e WHERE e.customer_id = :light AND e.product_id = x.item_id) > 0 AS own_item,
       title IS NOT NULL AS has_title, share IS NOT NULL AS has_share
  FROM explain(:light, :top) x WHERE role = 'because' GROUP BY 1, 2, 3, 4;
SELECT role, item_id = :top AS is_item, detail LIKE 'recommendable: rank 1 of %' AS says_rank_1
  FROM explain(:light, :top) WHERE role = 'score';
-- the rank explain reports is the position in recommend()
SELECT bool_and(x.detail LIKE format('recommendable: rank %s of %%', r.rank)) AS ranks_agree
  FROM recommend(:light, 15, 0) r, LATERAL explain(:light, r.item_id) x WHERE x.role = 'score';
-- not recommendable: already in the history / not in the model
SELECT product_id AS owned FROM shop.events WHERE customer_id = :light ORDER BY occurred_at, product_id LIMIT 1 \gset
SELECT role, detail LIKE 'not recommendable: item % is already in the history of user %' AS in_history
  FROM explain(:light, :owned) WHERE role = 'score';
SELECT role, contribution IS NULL AS no_score, detail LIKE 'not recommendable: item 987654321 is not in model "default"%' AS not_in_model
  FROM explain(:light, 987654321) WHERE role = 'score';

-- cold start: a customer without events, and an id nobody has seen, get popular items
SELECT customer_id AS cold FROM shop.customers c
 WHERE NOT EXISTS (SELECT 1 FROM shop.events e WHERE e.customer_id = c.customer_id) ORDER BY 1 LIMIT 1 \gset
SELECT count(*) AS n, bool_and(source = 'popular') AS popular FROM recommend(:cold, 10, 0);
SELECT count(*) AS n, bool_and(source = 'popular') AS popular FROM recommend(-42, 5, 0.5);
-- the fallback is recency-weighted popularity: the top item was active in the last weeks
SELECT (SELECT max(occurred_at) FROM shop.events e WHERE e.product_id = r.item_id)
         > (SELECT max(occurred_at) FROM shop.events) - interval '14 days' AS recently_active
  FROM recommend(-42, 1, 0) r;
SELECT role, detail LIKE 'user -42 has no history the model knows%' AS cold_explained
  FROM explain(-42, (SELECT item_id FROM recommend(-42, 1, 0))) WHERE role = 'score';

-- diversity: the first item never changes; more categories; items placed for variety are marked
SELECT d, (SELECT item_id FROM recommend(:heavy, 10, d) WHERE rank = 1)
            = (SELECT item_id FROM recommend(:heavy, 10, 0) WHERE rank = 1) AS same_first,
       (SELECT count(*) FROM recommend(:heavy, 10, d)) AS n
  FROM unnest(ARRAY[0, 0.1, 0.3, 0.5, 0.7, 1.0]::float8[]) d;
WITH lists AS (
  SELECT d, r.*, p.category FROM unnest(ARRAY[0, 0.5, 1.0]::float8[]) d,
         LATERAL recommend(:heavy, 10, d) r JOIN shop.products p ON p.product_id = r.item_id)
SELECT d, count(DISTINCT category) >= 5 AS several_categories, count(*) FILTER (WHERE for_variety) > 0 AS some_for_variety,
       bool_or(for_variety AND rank = 1) AS first_for_variety
  FROM lists GROUP BY d ORDER BY d;
WITH c AS (SELECT d, count(DISTINCT p.category) AS cats
             FROM unnest(ARRAY[0, 0.5]::float8[]) d, LATERAL recommend(:heavy, 10, d) r
             JOIN shop.products p ON p.product_id = r.item_id GROUP BY d)
SELECT (SELECT cats FROM c WHERE d = 0.5) > (SELECT cats FROM c WHERE d = 0) AS more_varied;
-- at diversity 1 the list is still drawn from the customer's best candidates (personal, not random)
SELECT max(relevance_rank) <= 100 AS from_candidate_pool FROM recommend(:heavy, 10, 1.0);
-- the greedy DPP re-ranker
SELECT name, reranker FROM recommender.configure('default', reranker => 'dpp');
SELECT count(*) AS n, count(DISTINCT item_id) AS distinct_items,
       (SELECT item_id FROM recommend(:heavy, 10, 0.5) WHERE rank = 1)
         = (SELECT item_id FROM recommend(:heavy, 10, 0) WHERE rank = 1) AS same_first
  FROM recommend(:heavy, 10, 0.5);
-- MMR
SELECT name, reranker FROM recommender.configure('default', reranker => 'mmr');
SELECT count(*) AS n, count(DISTINCT item_id) AS distinct_items, count(*) FILTER (WHERE for_variety) > 0 AS some_for_variety,
       (SELECT item_id FROM recommend(:heavy, 10, 0.5) WHERE rank = 1)
         = (SELECT item_id FROM recommend(:heavy, 10, 0) WHERE rank = 1) AS same_first
  FROM recommend(:heavy, 10, 0.5);
SELECT name, reranker FROM recommender.configure('default', reranker => 'coverage');

-- similar items for a product page
SELECT count(*) AS n, bool_and(item_id <> :top) AS excludes_itself FROM similar_items(:top, 5);
