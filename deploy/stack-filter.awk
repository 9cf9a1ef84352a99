# Turns docker-compose.prod.yml into what `docker stack deploy` accepts (docs/docker.md):
# - swarm's compose loader rejects the long form of depends_on (moby/moby#46827) and `profiles`;
# - the kafka service, a compose profile, is kept only with -v broker=kafka;
# - `pull_policy` (of services made by npm run new:service) is Compose-only: swarm's schema rejects it.
#
#   awk -v broker="${MUPETS_BROKER:-redis}" -f deploy/stack-filter.awk docker-compose.prod.yml
/^[a-z]/ { drop = 0 }
/^  [a-z][a-z0-9-]*:$/ { drop = ($0 == "  kafka:" && broker != "kafka") }
drop { next }
/^    profiles:/ { next }
/^    pull_policy:/ { next }
/^    depends_on:$/ { skip = 1; next }
skip && /^      / { next }
{ skip = 0; print }
