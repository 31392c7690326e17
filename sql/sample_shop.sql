-- recommender.create_sample_shop(): a deterministic synthetic web shop.
--
-- Creates the tables <target_schema>.products, .customers and .events and fills them with a
-- made-up e-commerce data set that has real, learnable structure, for demos, tutorials and
-- regression tests of the recommender extension:
--   * 20 categories (Kitchen, Coffee & Tea, Books, ...) holding the products unevenly; readable
--     titles ("Ceramic Pour-Over Kettle by Kettlebrook"), brands shared within a category,
--     plausible prices, ~92% in stock, a few dozen "new arrivals" added in the last two weeks;
--   * customers with 1-3 favourite categories (~80% of their events fall there), Zipf-like
--     product popularity within a category, brand loyalty, skewed activity (most customers have
--     5-40 events, a few 100-300) and ~3% cold-start customers without any event;
--   * sessions of views, some leading to a cart and fewer to a purchase (~70/18/12%); every
--     purchase has an earlier cart and an earlier view of the same product by the same customer;
--     no event happens before the product's added_at or the customer's joined_at;
--   * events from 2026-05-01 to 2026-10-31 UTC, with a handful of "trending" products that get
--     far more activity in the last 14 days than before.
--
-- The output is fully deterministic: every pseudo-random choice is derived from
-- hashint8extended(key, seed) (never random()/setseed()), only IEEE-exact float operations are
-- used (+ - * / sqrt, no exp/ln/pow), timestamps are built from integer epoch seconds, and every
-- ordering has a unique tie-breaker. The same arguments therefore give byte-identical tables on
-- any run and any machine, whatever the session's TimeZone or other settings.
--
-- Usage:  SELECT recommender.create_sample_shop();                 -- schema "shop", defaults
--         SELECT recommender.create_sample_shop('demo', 50, 40, 7);
-- Remove: DROP SCHEMA shop CASCADE;

CREATE FUNCTION recommender.create_sample_shop(
    target_schema name DEFAULT 'shop',
    customers integer DEFAULT 3000,
    products integer DEFAULT 1000,
    seed integer DEFAULT 42)
RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
SET jit = off   -- JIT-compiling the big generation queries would take minutes
AS $function$
DECLARE
    -- Copies of the arguments: "customers" and "products" would clash with table names in SQL.
    v_schema  name    := target_schema;
    n_cust    integer := customers;
    n_prod    integer := products;
    -- Hash seed base. A uniform draw in [0,1) for key K on stream N is
    --   (hashint8extended(K, s0 + N) & 2147483647)::float8 / 2147483648::float8
    -- Streams are numbered per use below; keys are packed ids (customer*1024 + view number, ...).
    s0        bigint;

    -- Time frame, as Unix epoch seconds (UTC).
    t_prod0   constant bigint := extract(epoch FROM timestamptz '2025-11-01 00:00:00+00')::bigint;
    t_prod1   constant bigint := extract(epoch FROM timestamptz '2026-10-31 12:00:00+00')::bigint;
    t_join0   constant bigint := extract(epoch FROM timestamptz '2023-01-01 00:00:00+00')::bigint;
    t_win0    constant bigint := extract(epoch FROM timestamptz '2026-05-01 00:00:00+00')::bigint;
    t_win1    constant bigint := extract(epoch FROM timestamptz '2026-11-01 00:00:00+00')::bigint;
    t_trend   constant bigint := t_win1 - 14 * 86400;   -- start of the "last 14 days"

    first_names constant text[] := ARRAY[
        'Emma','Liam','Olivia','Noah','Ava','Lucas','Mia','Elias','Sofia','Leon',
        'Isabella','Mateo','Amelia','Hugo','Freya','Oskar','Chloe','Arjun','Hannah','Kenji',
        'Zoe','Omar','Lea','Ivan','Nora','Diego','Aisha','Felix','Maja','Samuel',
        'Ines','Tomas','Yuki','Ben','Clara','Rafael','Lina','David','Priya','Jonas',
        'Sara','Mohammed','Julia','Erik','Anna','Kai','Fatima','Luca','Ingrid','Theo'];
    last_names constant text[] := ARRAY[
        'Jensen','Smith','Garcia','Mueller','Rossi','Kowalski','Nguyen','Johansson','Silva','Tanaka',
        'Novak','Dubois','Schmidt','Larsen','Okafor','Patel','Kim','Costa','Fischer','Hansen',
        'Lopez','Berg','Moreau','Weber','Nielsen','Haddad','Ivanov','Santos','Becker','Lindqvist',
        'Murphy','Kaur','Yilmaz','Petrov','Andersen','Bianchi','Wagner','Sato','Horvat','Martin',
        'Brown','Fernandes','Virtanen','Cohen','Mendes','Schulz','Eriksson','Popescu','Walsh','Reyes'];

    n_cat     integer;      -- categories that received at least one product
    max_b     integer;      -- largest number of brands in a category
    cat_n     integer[];    -- per category: number of products
    cat_m     integer[];    --               number of "established" top products (added before the window)
    cat_off   integer[];    --               offset of the category in p_cr
    cat_nb    integer[];    --               number of brands
    pop_pick  integer[];    -- category ids repeated by popularity weight (weighted draws)
    n_pop     integer;
    p_cr      integer[];    -- product_id by (cat_off[c] + popularity rank)
    p_cat     integer[];    -- by product_id: category id
    p_brand   integer[];    --                brand number within the category
    p_added   bigint[];     --                added_at (epoch)
    b_cnt     integer[];    -- by (c-1)*max_b + brand: number of products of that brand
    b_off     integer[];    --                         offset in b_pid
    b_pid     integer[];    -- product ids ordered by category, brand, popularity rank
    tr        integer[];    -- trending product ids
    n_tr      integer;
    n_cold    integer;
    n_heavy   integer;
    n_mid     integer;
    n_events  bigint;
    tbl       text;
BEGIN
    ------------------------------------------------------------------------------------------
    -- Arguments
    ------------------------------------------------------------------------------------------
    IF target_schema IS NULL OR customers IS NULL OR products IS NULL OR seed IS NULL THEN
        RAISE EXCEPTION 'create_sample_shop arguments must not be NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Leave an argument out to use its default.';
    END IF;
    IF target_schema = '' THEN
        RAISE EXCEPTION 'target_schema must not be empty'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Name the schema for the sample shop''s tables (default shop).';
    END IF;
    IF products < 10 THEN
        RAISE EXCEPTION 'products must be at least 10 (got %)', products
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The sample shop spreads its products over 20 categories; pass products => 10 or more (default 1000).';
    END IF;
    IF customers < 1 THEN
        RAISE EXCEPTION 'customers must be at least 1 (got %)', customers
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass customers => 1 or more (default 3000).';
    END IF;
    -- a sample shop, not a load generator: bounded so that a typo cannot run for hours
    IF customers > 1000000 OR products > 100000 THEN
        RAISE EXCEPTION 'the sample shop has at most 1,000,000 customers and 100,000 products (got % and %)', customers, products
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The defaults (3000 customers, 1000 products) make about 110,000 events.';
    END IF;
    FOREACH tbl IN ARRAY ARRAY['products', 'customers', 'events'] LOOP
        IF to_regclass(format('%I.%I', v_schema, tbl)) IS NOT NULL THEN
            RAISE EXCEPTION 'relation %.% already exists', quote_ident(v_schema), quote_ident(tbl)
                USING ERRCODE = 'duplicate_table',
                      HINT = format('Drop the old sample shop first (DROP SCHEMA %I CASCADE) or pass another target_schema.', v_schema);
        END IF;
    END LOOP;
    -- the scratch tables below are this function's own: a table of the same name in the caller's
    -- session is the caller's, and is left alone (the function drops its own before returning)
    FOREACH tbl IN ARRAY ARRAY['_shop_cat', '_shop_prod', '_shop_cust', '_shop_ev'] LOOP
        IF to_regclass('pg_temp.' || tbl) IS NOT NULL THEN
            RAISE EXCEPTION 'create_sample_shop needs the temporary table name pg_temp.%, which this session already uses', tbl
                USING ERRCODE = 'duplicate_table',
                      HINT = 'Drop or rename that temporary table, or call create_sample_shop from another session.';
        END IF;
    END LOOP;

    s0 := seed::bigint << 20;

    ------------------------------------------------------------------------------------------
    -- Categories: name, share of products, popularity among customers, price range, and
    -- 12 nouns (cheapest first: the price grows with the noun's position), 10 adjectives and
    -- 6 brands each. (Titles walk the adjective x noun grid with stride 49, so the grid size
    -- must not be a multiple of 7.)
    ------------------------------------------------------------------------------------------
    CREATE TEMP TABLE _shop_cat ON COMMIT DROP AS
    SELECT v.*, 0 AS n, 0 AS m, 0 AS off
    FROM (VALUES
      (1, 'Kitchen', 90, 80, 6.0, 320.0,
       ARRAY['Utensil Set','Colander','Cutting Board','Mixing Bowl Set','Salad Spinner','Baking Sheet',
             'Saucepan','Frying Pan','Chef''s Knife','Knife Block','Dutch Oven','Stand Mixer'],
       ARRAY['Stainless','Cast-Iron','Non-Stick','Bamboo','Ceramic','Professional','Compact','Enamelled','Classic','Copper'],
       ARRAY['Nordvik','Casalume','Ironleaf','Pantrio','Kochwerk','Maple & Tin']),
      (2, 'Coffee & Tea', 35, 55, 4.0, 260.0,
       ARRAY['Tea Infuser','Loose-Leaf Green Tea','Espresso Beans (1 kg)','Travel Mug','Matcha Whisk','Milk Frother',
             'French Press','Moka Pot','Pour-Over Kettle','Cold Brew Maker','Burr Grinder','Drip Coffee Maker'],
       ARRAY['Ceramic','Single-Origin','Organic','Gooseneck','Insulated','Glass','Dark Roast','Barista','Hand-Crafted','Electric'],
       ARRAY['Kettlebrook','Roastwell','Bean & Leaf','Kaffeholm','Sencha House','Brewmaster']),
      (3, 'Books', 110, 90, 6.0, 48.0,
       ARRAY['Poetry Collection','Children''s Picture Book','Mystery Novel','Science Fiction Novel','Graphic Novel','Self-Help Guide',
             'Travel Guide','Biography','History of Europe','Cookbook','Programming Handbook','Fantasy Trilogy Box Set'],
       ARRAY['Bestselling','Illustrated','Hardcover','Paperback','Annotated','Award-Winning','Pocket','Collector''s','Signed','Revised'],
       ARRAY['Harbor Press','Quillstone','Penrose Books','Lanternfield','Inkwell House','Northgate Publishing']),
      (4, 'Toys', 70, 60, 5.0, 130.0,
       ARRAY['Kite','Action Figure','Plush Bear','Puzzle (1000 pcs)','Board Game','Science Kit',
             'Marble Run','Building Blocks Set','Wooden Train Set','Remote Control Car','Play Kitchen','Doll House'],
       ARRAY['Classic','Deluxe','Wooden','Glow-in-the-Dark','Educational','Mini','Giant','Magnetic','Rainbow','Junior'],
       ARRAY['Brickly','Toyvana','Wunderkid','Playmosa','Tiny Titan','Hopscotch']),
      (5, 'Garden', 55, 45, 4.0, 300.0,
       ARRAY['Garden Gloves','Seed Starter Tray','Watering Can','Pruning Shears','Bird Feeder','Planter Pot',
             'Garden Hose (25 m)','Lawn Sprinkler','Solar Path Lights','Compost Bin','Hedge Trimmer','Raised Bed Kit'],
       ARRAY['Heavy-Duty','Galvanised','Ergonomic','Recycled','Terracotta','Expandable','Cordless','Weatherproof','Cedar','Self-Watering'],
       ARRAY['Greenhaven','Rootwell','Fieldstone','Bloomcraft','Moss & Oak','Terrapin']),
      (6, 'Running', 40, 50, 8.0, 420.0,
       ARRAY['Running Socks (Pack of 3)','Running Cap','Race Belt','Energy Gel Pack (12x)','Compression Sleeves','Handheld Water Bottle',
             'Headlamp','Running Tights','Reflective Jacket','Hydration Vest','Running Shoes','GPS Running Watch'],
       ARRAY['Lightweight','Breathable','Trail','Cushioned','Windproof','Seamless','Ultra','Reflective','Merino','Carbon'],
       ARRAY['Stridex','Altavia','Pacehawk','Kinetra','Runwild','Fjellfoot']),
      (7, 'Camping', 40, 35, 6.0, 450.0,
       ARRAY['Dry Bag (20 L)','Lantern','Cookware Set','Trekking Poles','Water Filter','Camp Chair',
             'Hammock','Camping Stove','Inflatable Sleeping Pad','Sleeping Bag','Backpack (45 L)','Two-Person Tent'],
       ARRAY['Ultralight','Four-Season','Waterproof','Compact','Folding','Insulated','Rugged','Expedition','Packable','Solar'],
       ARRAY['Summitra','Wildcamp','Northpeak','Bivouac Co.','Trailforge','Kestrel']),
      (8, 'Audio', 40, 55, 15.0, 600.0,
       ARRAY['Sleep Headphones','Portable Radio','Wireless Earbuds','Bluetooth Speaker','Smart Speaker','Studio Microphone',
             'Over-Ear Headphones','Bookshelf Speakers','DAC Amplifier','Subwoofer','Turntable','Soundbar'],
       ARRAY['Noise-Cancelling','Hi-Fi','Waterproof','Compact','Studio','Wireless','Retro','Premium','Bass-Boosted','Open-Back'],
       ARRAY['Sonarix','Auralis','Bassline','Echoform','Vellum Audio','Klangwerk']),
      (9, 'Phones', 30, 65, 7.0, 999.0,
       ARRAY['USB-C Cable','Screen Protector (2x)','Phone Case','Stylus','Car Mount','Wall Charger',
             'Phone Tripod','Wireless Charger','Power Bank','Camera Lens Kit','Smartwatch','Smartphone'],
       ARRAY['Slim','Rugged','Fast-Charging','Magnetic','Ultra','Compact','Matte','Transparent','Pro','Eco'],
       ARRAY['Voltara','Pixelon','Nuvio','Ampere Labs','Cellora','Zentek']),
      (10, 'Baby', 35, 35, 5.0, 400.0,
       ARRAY['Pacifier (2x)','Bibs (Pack of 5)','Teething Toy','Baby Bottle Set','Swaddle Blanket','Bath Tub',
             'Baby Monitor','High Chair','Baby Carrier','Travel Cot','Car Seat','Stroller'],
       ARRAY['Organic','Soft','BPA-Free','Foldable','Convertible','Hypoallergenic','Lightweight','Cosy','Ergonomic','Muslin'],
       ARRAY['Little Sprout','Lullabee','Nestling','Bambino Co.','Cradlewood','Peekaboo']),
      (11, 'Pets', 50, 50, 3.0, 180.0,
       ARRAY['Chew Toy','Cat Treats','Poop Bags (240x)','Pet Bowl','Dog Leash','Cat Scratcher',
             'Grooming Brush','Dog Food (12 kg)','Pet Bed','Cat Litter Box','Pet Carrier','Aquarium Kit'],
       ARRAY['Durable','Grain-Free','Orthopedic','Reflective','Stainless','Self-Cleaning','Plush','Interactive','Natural','Adjustable'],
       ARRAY['Pawsome','Whiskerly','Barkley & Co.','Furrow','Tailwise','Kibblehaus']),
      (12, 'Beauty', 65, 60, 3.0, 140.0,
       ARRAY['Lip Balm','Sheet Mask (5x)','Hand Cream','Shampoo','Face Cleanser','Body Lotion',
             'Eye Cream','Vitamin C Serum','Eau de Parfum','Hair Dryer','Hair Straightener','Electric Toothbrush'],
       ARRAY['Hydrating','Vegan','Fragrance-Free','Nourishing','Brightening','Travel-Size','Gentle','Overnight','Botanical','Ionic'],
       ARRAY['Lumiere','Dewdrop','Skinfolk','Velvette','Aurelia','Purely']),
      (13, 'Home Decor', 70, 45, 5.0, 350.0,
       ARRAY['Scented Candle','Photo Frame','Throw Pillow','Vase','Wall Clock','Table Lamp',
             'Throw Blanket','Wall Art Print','Mirror','Area Rug','Floor Lamp','Bookshelf'],
       ARRAY['Minimalist','Boho','Linen','Velvet','Scandinavian','Rattan','Marble','Vintage','Handwoven','Brass'],
       ARRAY['Hygge Home','Casa Mira','Oak & Ember','Linnea','Driftwood','Atelier Nord']),
      (14, 'Fitness', 45, 50, 6.0, 900.0,
       ARRAY['Resistance Bands','Jump Rope','Yoga Mat','Foam Roller','Ab Wheel','Kettlebell (12 kg)',
             'Pull-Up Bar','Adjustable Dumbbells','Weight Bench','Rowing Machine','Exercise Bike','Treadmill'],
       ARRAY['Non-Slip','Adjustable','Foldable','Heavy-Duty','Eco','Smart','Compact','Pro','Padded','Magnetic'],
       ARRAY['Ironcore','Flexa','Repforge','Zenmotion','Pulsefit','Gravitas']),
      (15, 'Cycling', 30, 30, 6.0, 1500.0,
       ARRAY['Bike Bell','Inner Tube','Bottle Cage','Cycling Gloves','Mini Pump','Bike Lights Set',
             'Saddle','Bike Lock','Cycling Jersey','Cycling Helmet','Bike Computer','Road Bike'],
       ARRAY['Aero','Carbon','Lightweight','Reflective','Gravel','Commuter','Padded','Tubeless','Aluminium','Racing'],
       ARRAY['Velocita','Spokehaus','Cadenza','Rideon','Chainline','Gearwright']),
      (16, 'Office', 50, 35, 2.0, 450.0,
       ARRAY['Gel Pens (10x)','Sticky Notes','Notebook','Desk Organizer','Stapler','Desk Lamp',
             'Laptop Stand','Monitor Arm','Footrest','Filing Cabinet','Standing Desk Converter','Office Chair'],
       ARRAY['Dotted','Ergonomic','Recycled','Minimalist','Adjustable','Bamboo','Leather','Compact','Executive','Refillable'],
       ARRAY['Paperlane','Deskwise','Inkbloom','Officio','Ledger & Co.','Quillmark']),
      (17, 'Video Games', 35, 45, 10.0, 550.0,
       ARRAY['Game Gift Card','Controller Grip','Indie Adventure Game','Racing Game','Strategy Game','Open-World RPG',
             'Gaming Headset','Wireless Controller','Gaming Mouse','Mechanical Keyboard','VR Headset','Game Console'],
       ARRAY['Deluxe','Limited Edition','Wireless','RGB','Retro','Collector''s','Ultimate','Pro','Co-op','Next-Gen'],
       ARRAY['Pixelforge','Lootbox Games','Questline','Arcadia Labs','Bitcrush','Nova Interactive']),
      (18, 'Computers', 45, 55, 8.0, 2200.0,
       ARRAY['USB Hub','Webcam','Wireless Mouse','Keyboard','External SSD (1 TB)','Docking Station',
             'Wi-Fi Router','27-inch Monitor','Mini PC','Tablet','Laptop','Gaming Laptop'],
       ARRAY['Ultra-Slim','Portable','4K','Ergonomic','Silent','High-Speed','Refurbished','Business','Creator','Mesh'],
       ARRAY['Kernix','Byteworks','Lumacore','Quantra','Nexbit','Siliconia']),
      (19, 'Fashion', 95, 75, 5.0, 260.0,
       ARRAY['Socks (3 Pairs)','Beanie','T-Shirt','Scarf','Belt','Sunglasses',
             'Jeans','Sweater','Sneakers','Backpack','Leather Boots','Winter Coat'],
       ARRAY['Organic Cotton','Slim-Fit','Oversized','Wool','Linen','Vintage','Recycled','Classic','Waterproof','Cashmere'],
       ARRAY['Threadly','Marlow & Vine','Urbanist','Kite & Kin','Loomstead','Ashby']),
      (20, 'Pantry', 45, 50, 2.0, 70.0,
       ARRAY['Sea Salt Crackers','Granola Bars (12x)','Dark Chocolate Bar','Pasta (500 g)','Peanut Butter','Honey',
             'Mixed Nuts (1 kg)','Olive Oil (1 L)','Hot Sauce Set','Protein Powder','Spice Collection','Gourmet Gift Basket'],
       ARRAY['Organic','Gluten-Free','Artisan','Smoked','Raw','Premium','Vegan','Spicy','Wildflower','Family-Size'],
       ARRAY['Harvest Lane','Pantryful','Good Grain','Salt & Sprout','Olivella','Mielbrook'])
    ) AS v(c, name, w_prod, w_pop, lo, hi, nouns, adjs, brands);

    -- Products per category: one each (when there are enough), the rest proportional to
    -- w_prod by the largest-remainder method (integer arithmetic only).
    WITH w AS (
        SELECT sum(w_prod)::bigint AS wt, count(*) AS cnt,
               CASE WHEN n_prod >= count(*) THEN 1 ELSE 0 END AS base
        FROM pg_temp._shop_cat
    ), x AS (
        SELECT k.c, w.base, n_prod - w.base * w.cnt AS rem,
               ((n_prod - w.base * w.cnt) * k.w_prod) / w.wt AS fl,
               mod((n_prod - w.base * w.cnt) * k.w_prod, w.wt) AS fr
        FROM pg_temp._shop_cat k, w
    ), y AS (
        SELECT x.*, row_number() OVER (ORDER BY fr DESC, c) AS ord, sum(fl) OVER () AS sum_fl
        FROM x
    )
    UPDATE pg_temp._shop_cat k
       SET n = (y.base + y.fl + CASE WHEN y.ord <= y.rem - y.sum_fl THEN 1 ELSE 0 END)::int
      FROM y
     WHERE y.c = k.c;

    UPDATE pg_temp._shop_cat k
       SET m = CASE WHEN k.n > 0 THEN greatest(1, ceil(k.n * 0.1))::int ELSE 0 END,
           off = coalesce((SELECT sum(k2.n) FROM pg_temp._shop_cat k2 WHERE k2.c < k.c), 0)::int;

    SELECT array_agg(n ORDER BY c), array_agg(m ORDER BY c), array_agg(off ORDER BY c),
           array_agg(cardinality(brands) ORDER BY c), max(cardinality(brands)),
           count(*) FILTER (WHERE n > 0)
      INTO cat_n, cat_m, cat_off, cat_nb, max_b, n_cat
      FROM pg_temp._shop_cat;

    SELECT array_agg(k.c ORDER BY k.c, i)
      INTO pop_pick
      FROM pg_temp._shop_cat k, generate_series(1, k.w_pop) AS i
     WHERE k.n > 0;
    n_pop := cardinality(pop_pick);

    ------------------------------------------------------------------------------------------
    -- Products. r = popularity rank within the category (1 = bestseller); product ids are a
    -- hash-shuffle of all products, titles a hash-shuffled walk over the adjective x noun grid
    -- (distinct within a category; a model suffix is added once the grid is used up).
    ------------------------------------------------------------------------------------------
    CREATE TEMP TABLE _shop_prod ON COMMIT DROP AS
    WITH b AS (
        SELECT k.c, r, k.m, k.name AS category, k.nouns, k.adjs, k.brands,
               k.lo::float8 AS lo, k.hi::float8 AS hi,
               cardinality(k.nouns) AS nn,
               cardinality(k.nouns) * cardinality(k.adjs) AS combos,
               k.c::bigint * 16777216 + r AS pkey
        FROM pg_temp._shop_cat k, generate_series(1, k.n) AS r
    ), h AS (
        SELECT b.*,
               (hashint8extended(pkey, s0 + 101) & 2147483647)::float8 / 2147483648::float8 AS u_id,
               (hashint8extended(pkey, s0 + 102) & 2147483647)::float8 / 2147483648::float8 AS u_slot,
               (hashint8extended(pkey, s0 + 103) & 2147483647)::float8 / 2147483648::float8 AS u_brand,
               (hashint8extended(pkey, s0 + 104) & 2147483647)::float8 / 2147483648::float8 AS u_price,
               (hashint8extended(pkey, s0 + 105) & 2147483647)::float8 / 2147483648::float8 AS u_stock,
               (hashint8extended(pkey, s0 + 106) & 2147483647)::float8 / 2147483648::float8 AS u_added,
               (hashint8extended(c,    s0 + 107) & 2147483647)::float8 / 2147483648::float8 AS u_off
        FROM b
    ), s AS (
        SELECT h.*,
               row_number() OVER (ORDER BY u_id, c, r) AS pid,
               row_number() OVER (PARTITION BY c ORDER BY u_slot, r) - 1 AS slot
        FROM h
    ), i AS (
        SELECT s.*,
               mod(slot * 49 + floor(u_off * combos)::bigint, combos)::int AS idx,
               (slot / combos)::int AS cycle,
               1 + floor(cardinality(brands) * (0.5 * u_brand + 0.5 * u_brand * u_brand))::int AS bi
        FROM s
    ), j AS (
        SELECT i.*,
               1 + mod(idx, nn) AS ni,
               1 + idx / nn AS ai
        FROM i
    ), p AS (
        SELECT j.*,
               lo + (hi - lo) * (((ni - 1) + 0.15 + 0.7 * u_price) / nn) * (((ni - 1) + 0.15 + 0.7 * u_price) / nn) AS raw_price
        FROM j
    )
    SELECT pid::int AS product_id, c, r, bi AS brand_i,
           adjs[ai] || ' ' || nouns[ni]
             || CASE WHEN cycle = 0 THEN ''
                     WHEN cycle <= 7 THEN (ARRAY[' II', ' III', ' Plus', ' Pro', ' Max', ' Mini', ' XL'])[cycle]
                     ELSE ' Series ' || (cycle + 1) END
             || ' by ' || brands[bi] AS title,
           category,
           brands[bi] AS brand,
           (CASE WHEN raw_price < 100 THEN floor(raw_price)::numeric + 0.99
                 ELSE ceil(raw_price / 5)::numeric * 5 - 0.01 END)::numeric(10,2) AS price,
           u_stock >= 0.08 AS in_stock,
           CASE WHEN r <= m   -- the top sellers are established: added before the event window
                THEN t_prod0 + floor(u_added * (t_win0 - 86400 - t_prod0))::bigint
                ELSE t_prod0 + floor(u_added * (t_prod1 - t_prod0))::bigint END AS added
    FROM p;

    -- Trending products: established, in stock, not the category's #1.
    n_tr := greatest(2, least(8, n_prod / 125));
    SELECT array_agg(product_id ORDER BY o)
      INTO tr
      FROM (SELECT product_id,
                   row_number() OVER (ORDER BY (added < t_win0 AND in_stock AND r > 1) DESC,
                                               hashint8extended(product_id, s0 + 108), product_id) AS o
              FROM pg_temp._shop_prod) z
     WHERE o <= n_tr;

    SELECT array_agg(product_id ORDER BY c, r) INTO p_cr FROM pg_temp._shop_prod;
    SELECT array_agg(c ORDER BY product_id), array_agg(brand_i ORDER BY product_id),
           array_agg(added ORDER BY product_id)
      INTO p_cat, p_brand, p_added
      FROM pg_temp._shop_prod;
    SELECT array_agg(product_id ORDER BY c, brand_i, r) INTO b_pid FROM pg_temp._shop_prod;
    WITH g AS (
        SELECT k.c, b, (k.c - 1) * max_b + b AS bk
        FROM pg_temp._shop_cat k, generate_series(1, max_b) AS b
    ), cnt AS (
        SELECT g.bk, count(p.product_id)::int AS cnt
        FROM g LEFT JOIN pg_temp._shop_prod p ON p.c = g.c AND p.brand_i = g.b
        GROUP BY g.bk
    )
    SELECT array_agg(cnt ORDER BY bk), array_agg(off ORDER BY bk)
      INTO b_cnt, b_off
      FROM (SELECT bk, cnt, (sum(cnt) OVER (ORDER BY bk) - cnt)::int AS off FROM cnt) z;

    ------------------------------------------------------------------------------------------
    -- Customers: activity tier by hash rank (exactly ~3% cold, ~3% heavy, ~9% medium), 1-3
    -- favourite categories drawn by popularity, joined_at mostly before the event window.
    -- nv = number of product views; carts and purchases come on top (~1.43 events per view).
    ------------------------------------------------------------------------------------------
    n_cold  := CASE WHEN n_cust >= 10 THEN greatest(1, round(n_cust * 0.03)::int) ELSE 0 END;
    n_heavy := round(n_cust * 0.03)::int;
    n_mid   := round(n_cust * 0.09)::int;

    CREATE TEMP TABLE _shop_cust ON COMMIT DROP AS
    WITH b AS (
        SELECT i AS customer_id,
               (hashint8extended(i, s0 + 201) & 2147483647)::float8 / 2147483648::float8 AS u_tier,
               (hashint8extended(i, s0 + 202) & 2147483647)::float8 / 2147483648::float8 AS u_n,
               (hashint8extended(i, s0 + 203) & 2147483647)::float8 / 2147483648::float8 AS u_nf,
               (hashint8extended(i, s0 + 204) & 2147483647)::float8 / 2147483648::float8 AS u_f1,
               (hashint8extended(i, s0 + 205) & 2147483647)::float8 / 2147483648::float8 AS u_f2,
               (hashint8extended(i, s0 + 206) & 2147483647)::float8 / 2147483648::float8 AS u_f3,
               (hashint8extended(i, s0 + 207) & 2147483647)::float8 / 2147483648::float8 AS u_j1,
               (hashint8extended(i, s0 + 208) & 2147483647)::float8 / 2147483648::float8 AS u_j2,
               (hashint8extended(i, s0 + 209) & 2147483647)::float8 / 2147483648::float8 AS u_fn,
               (hashint8extended(i, s0 + 210) & 2147483647)::float8 / 2147483648::float8 AS u_ln
        FROM generate_series(1, n_cust) AS i
    ), r AS (
        SELECT b.*,
               row_number() OVER (ORDER BY u_tier, customer_id) AS rn,
               CASE WHEN u_nf < 0.35 THEN 1 WHEN u_nf < 0.75 THEN 2 ELSE 3 END AS nf
        FROM b
    )
    SELECT customer_id,
           first_names[1 + floor(u_fn * cardinality(first_names))::int] || ' ' ||
           last_names[1 + floor(u_ln * cardinality(last_names))::int] AS name,
           CASE WHEN u_j1 < 0.82 THEN t_join0 + floor(u_j2 * (t_win0 - t_join0))::bigint
                ELSE t_win0 + floor(u_j2 * (t_win1 - 7 * 86400 - t_win0))::bigint END AS joined,
           CASE WHEN rn <= n_cold                   THEN 0
                WHEN rn <= n_cold + n_heavy         THEN round(0.7 * (100 + floor(201 * u_n)))::int
                WHEN rn <= n_cold + n_heavy + n_mid THEN round(0.7 * (40 + floor(61 * u_n)))::int
                ELSE round(0.7 * (5 + floor(36 * sqrt(u_n))))::int END AS nv,
           ARRAY(SELECT f
                   FROM unnest((ARRAY[pop_pick[1 + floor(u_f1 * n_pop)::int],
                                      pop_pick[1 + floor(u_f2 * n_pop)::int],
                                      pop_pick[1 + floor(u_f3 * n_pop)::int]])[1:nf]) WITH ORDINALITY AS z(f, o)
                  GROUP BY f ORDER BY min(o)) AS favs
    FROM r;

    ------------------------------------------------------------------------------------------
    -- Events. Each customer has nv views, cut into sessions (a new one starts with probability
    -- 0.3, and at least every 20 views). A session has a category (a favourite with p=0.78,
    -- else any category by popularity) and a start time; views in it are ~2 minutes apart.
    -- A view shows: a trending product (last 14 days, p=0.08), a product of the customer's
    -- preferred brand in that category (p=0.5; Zipf-like by rank within the brand), or a
    -- product of the category (Zipf-like: rank ~ n*u^3). A product not yet added at that time
    -- is replaced by one of the category's established top sellers. Views lead to a cart
    -- (p=0.165, 0.35 for the preferred brand) and carts to a purchase (p=0.56, 0.73).
    -- (The MATERIALIZED steps matter: inlined, each derived column's expression would be
    -- copied into every later use, and evaluation time would explode.)
    ------------------------------------------------------------------------------------------
    CREATE TEMP TABLE _shop_ev ON COMMIT DROP AS
    WITH v AS (
        SELECT cu.customer_id AS cid, cu.favs, cardinality(cu.favs) AS nf,
               greatest(cu.joined, t_win0) AS lo, k,
               cu.customer_id::bigint * 1024 + k AS vkey,
               (k = 1 OR mod(k, 20) = 1
                OR (hashint8extended(cu.customer_id::bigint * 1024 + k, s0 + 301) & 2147483647)::float8 / 2147483648::float8 < 0.3) AS flag
        FROM pg_temp._shop_cust cu, generate_series(1, cu.nv) AS k
        WHERE cu.nv > 0
    ), s AS (
        SELECT v.*,
               cid::bigint * 1024 + sum(flag::int) OVER w AS skey,
               k - max(CASE WHEN flag THEN k END) OVER w AS pos
        FROM v
        WINDOW w AS (PARTITION BY cid ORDER BY k)
    ), a AS MATERIALIZED (
        SELECT s.*,
               CASE WHEN (hashint8extended(skey, s0 + 302) & 2147483647)::float8 / 2147483648::float8 < 0.78
                    THEN favs[CASE WHEN nf = 1 OR (hashint8extended(skey, s0 + 303) & 2147483647)::float8 / 2147483648::float8 < 0.5 THEN 1
                                   WHEN nf = 2 OR (hashint8extended(skey, s0 + 303) & 2147483647)::float8 / 2147483648::float8 < 0.8 THEN 2
                                   ELSE 3 END]
                    ELSE pop_pick[1 + floor((hashint8extended(skey, s0 + 304) & 2147483647)::float8 / 2147483648::float8 * n_pop)::int]
               END AS cc,
               lo + floor((hashint8extended(skey, s0 + 305) & 2147483647)::float8 / 2147483648::float8 * (t_win1 - 7200 - lo))::bigint
                  + pos * 120
                  + floor((hashint8extended(vkey, s0 + 306) & 2147483647)::float8 / 2147483648::float8 * 100)::bigint AS tv,
               (hashint8extended(vkey, s0 + 310) & 2147483647)::float8 / 2147483648::float8 AS u_tr,
               (hashint8extended(vkey, s0 + 311) & 2147483647)::float8 / 2147483648::float8 AS u_trp,
               (hashint8extended(vkey, s0 + 312) & 2147483647)::float8 / 2147483648::float8 AS u_loyal,
               (hashint8extended(vkey, s0 + 313) & 2147483647)::float8 / 2147483648::float8 AS u_bp,
               (hashint8extended(vkey, s0 + 314) & 2147483647)::float8 / 2147483648::float8 AS u_cp,
               (hashint8extended(vkey, s0 + 315) & 2147483647)::float8 / 2147483648::float8 AS u_fb,
               (hashint8extended(vkey, s0 + 320) & 2147483647)::float8 / 2147483648::float8 AS u_cart,
               (hashint8extended(vkey, s0 + 321) & 2147483647)::float8 / 2147483648::float8 AS u_buy,
               (hashint8extended(vkey, s0 + 322) & 2147483647)::float8 / 2147483648::float8 AS u_dc,
               (hashint8extended(vkey, s0 + 323) & 2147483647)::float8 / 2147483648::float8 AS u_dp
        FROM s
    ), c AS MATERIALIZED (
        -- the customer's preferred brand in this category (same for all their sessions in it)
        SELECT a.*, (cc - 1) * max_b + pb AS bk
        FROM (SELECT a.*,
                     1 + floor(cat_nb[cc] * ub)::int AS pb
                FROM (SELECT a.*,
                             (hashint8extended(cid::bigint * 64 + cc, s0 + 307) & 2147483647)::float8 / 2147483648::float8 AS ub
                        FROM a) a) a
    ), d AS MATERIALIZED (
        SELECT c.*,
               CASE WHEN tv >= t_trend AND u_tr < 0.08
                    THEN tr[1 + floor(u_trp * n_tr)::int]
                    WHEN b_cnt[bk] > 0 AND u_loyal < 0.5
                    THEN b_pid[b_off[bk] + 1 + floor(b_cnt[bk] * u_bp * u_bp)::int]
                    ELSE p_cr[cat_off[cc] + 1 + floor(cat_n[cc] * u_cp * u_cp * u_cp)::int]
               END AS pid0
        FROM c
    ), e AS MATERIALIZED (
        SELECT d.*,
               CASE WHEN p_added[pid0] <= tv THEN pid0
                    ELSE p_cr[cat_off[p_cat[pid0]] + 1 + floor(cat_m[p_cat[pid0]] * u_fb * u_fb * u_fb)::int]
               END AS pid
        FROM d
    ), f AS (
        SELECT e.*,
               u_cart < CASE WHEN bm THEN 0.35 ELSE 0.165 END AS is_cart,
               u_cart < CASE WHEN bm THEN 0.35 ELSE 0.165 END
                 AND u_buy < CASE WHEN bm THEN 0.73 ELSE 0.56 END AS is_buy,
               tv + 20 + floor(u_dc * 90)::bigint AS tc
        FROM (SELECT e.*, (p_cat[pid] = cc AND p_brand[pid] = pb) AS bm FROM e) e
    )
    SELECT cid AS customer_id, pid AS product_id, 'view'::text AS event_type, tv AS t, k, 1 AS o FROM f
    UNION ALL
    SELECT cid, pid, 'cart', tc, k, 2 FROM f WHERE is_cart
    UNION ALL
    SELECT cid, pid, 'purchase', tc + 30 + floor(u_dp * 900)::bigint, k, 3 FROM f WHERE is_buy;

    SELECT count(*) INTO n_events FROM pg_temp._shop_ev;

    ------------------------------------------------------------------------------------------
    -- Target tables (foreign keys and secondary indexes are added after loading: much faster).
    ------------------------------------------------------------------------------------------
    IF NOT EXISTS (SELECT FROM pg_namespace WHERE nspname = v_schema) THEN
        EXECUTE format('CREATE SCHEMA %I', v_schema);
    END IF;

    EXECUTE format($q$
        CREATE TABLE %1$I.products (
            product_id integer PRIMARY KEY,
            title      text NOT NULL,
            category   text NOT NULL,
            brand      text NOT NULL,
            price      numeric(10,2) NOT NULL,
            in_stock   boolean NOT NULL,
            added_at   timestamptz NOT NULL)$q$, v_schema);
    EXECUTE format($q$
        CREATE TABLE %1$I.customers (
            customer_id integer PRIMARY KEY,
            name        text NOT NULL,
            joined_at   timestamptz NOT NULL)$q$, v_schema);
    EXECUTE format($q$
        CREATE TABLE %1$I.events (
            event_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            customer_id integer NOT NULL,
            product_id  integer NOT NULL,
            event_type  text NOT NULL CHECK (event_type IN ('view', 'cart', 'purchase')),
            occurred_at timestamptz NOT NULL)$q$, v_schema);

    EXECUTE format($q$
        INSERT INTO %1$I.products (product_id, title, category, brand, price, in_stock, added_at)
        SELECT product_id, title, category, brand, price, in_stock, to_timestamp(added)
        FROM pg_temp._shop_prod ORDER BY product_id$q$, v_schema);
    EXECUTE format($q$
        INSERT INTO %1$I.customers (customer_id, name, joined_at)
        SELECT customer_id, name, to_timestamp(joined)
        FROM pg_temp._shop_cust ORDER BY customer_id$q$, v_schema);
    -- event_id follows time order (ties broken by customer, view number, view < cart < purchase)
    EXECUTE format($q$
        INSERT INTO %1$I.events (customer_id, product_id, event_type, occurred_at)
        SELECT customer_id, product_id, event_type, to_timestamp(t)
        FROM pg_temp._shop_ev ORDER BY t, customer_id, k, o$q$, v_schema);

    EXECUTE format($q$
        ALTER TABLE %1$I.events
            ADD FOREIGN KEY (customer_id) REFERENCES %1$I.customers,
            ADD FOREIGN KEY (product_id) REFERENCES %1$I.products$q$, v_schema);
    EXECUTE format('CREATE INDEX ON %I.events (customer_id)', v_schema);
    EXECUTE format('CREATE INDEX ON %I.events (product_id)', v_schema);

    EXECUTE format('COMMENT ON TABLE %I.products IS %L', v_schema,
        format('sample shop catalog (recommender.create_sample_shop, seed %s)', seed));
    EXECUTE format('COMMENT ON TABLE %I.customers IS %L', v_schema,
        format('sample shop customers, about 3%% without events (recommender.create_sample_shop, seed %s)', seed));
    EXECUTE format('COMMENT ON TABLE %I.events IS %L', v_schema,
        format('sample shop interactions: view, cart, purchase (recommender.create_sample_shop, seed %s)', seed));

    DROP TABLE pg_temp._shop_ev, pg_temp._shop_cust, pg_temp._shop_prod, pg_temp._shop_cat;

    EXECUTE format('ANALYZE %1$I.products, %1$I.customers, %1$I.events', v_schema);

    RETURN format('%s: %s customers, %s products, %s categories, %s events',
                  v_schema, n_cust, n_prod, n_cat, n_events);
END
$function$;

COMMENT ON FUNCTION recommender.create_sample_shop(name, integer, integer, integer) IS
'Creates <target_schema>.products, .customers and .events (schema "shop" by default) and fills them with a deterministic synthetic web shop: 20 categories, Zipf-like popularity, favourite categories, brand loyalty, view/cart/purchase sessions from 2026-05-01 to 2026-10-31 UTC, ~3% cold-start customers, a few trending products and new arrivals. Same arguments give identical data. Fails if those tables already exist. Returns a one-line summary.';
