# Sourced by scripts/dev.sh and scripts/send.sh: worker/.dev.vars, the demo secrets of `make dev`,
# written from worker/.dev.vars.example on first use; a demo secret added to the example since
# (a new source's) is appended, so an older checkout's sources all start.
if [ ! -f worker/.dev.vars ]; then
  cp worker/.dev.vars.example worker/.dev.vars
  echo "wrote worker/.dev.vars (demo secrets)"
fi
# The demo admin token of older checkouts is too short to open the admin API (32 characters).
sed -i 's/^ADMIN_TOKEN=hookseal-demo-admin-token$/ADMIN_TOKEN=hookseal-demo-admin-token-0123456789abcdef/' worker/.dev.vars
while IFS= read -r _line; do
  case $_line in '' | '#'*) continue ;; esac
  grep -q "^${_line%%=*}=" worker/.dev.vars || echo "$_line" >> worker/.dev.vars
done < worker/.dev.vars.example
unset _line
