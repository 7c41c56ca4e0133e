#!/usr/bin/env bash
# Does what Bicep cannot: grants Keyturn's service principal (the managed
# identity infra/main.bicep created) the Microsoft Graph application
# permissions it needs, makes it an owner of each app it may rotate, and
# optionally gives it Key Vault Secrets Officer on target vaults. Safe to run
# twice: it reads what is there and adds only what is missing. It sets no
# secret anywhere.
#
# Usage:
#   bash infra/grant-permissions.sh --principal-id <object-id> [--policy <file>] \
#     [--app <client-id>]... [--vault <vault-name>]... [--dry-run]
#
#   --principal-id  object ID of Keyturn's service principal (the deployment's
#                   principalId output)
#   --policy        Keyturn's policy file: grant only the read permissions the
#                   kinds of roles it names need (without it: all of them)
#   --app           an app registration Keyturn may rotate (client ID);
#                   Keyturn's service principal becomes one of its owners
#   --vault         a Key Vault (RBAC mode) Keyturn may write secrets to
#   --dry-run       say what would change, change nothing
#
# Run it with `az login` as someone who may grant application permissions
# (Privileged Role Administrator or Global Administrator for the Graph
# permissions), who owns or administers the apps (Application Administrator),
# and who may assign roles on the vaults (Owner or User Access Administrator).
set -euo pipefail

# Microsoft Graph's well-known application ID, the same in every tenant.
graph_app_id=00000003-0000-0000-c000-000000000000

principal=""
policy=""
apps=()
vaults=()
dry_run=false

usage() { sed -n '/^# Usage:/,/^#   --dry-run/p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
is_guid() { [[ "$1" =~ ^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$ ]]; }
say() { printf '%s\n' "$*"; }
change() {
	if $dry_run; then
		say "  would: $*"
		return 1
	fi
	say "  doing: $*"
}

while [ $# -gt 0 ]; do
	case "$1" in
	--principal-id | --policy | --app | --vault) [ $# -ge 2 ] || usage ;;
	esac
	case "$1" in
	--principal-id) principal="${2:-}"; shift 2 ;;
	--policy) policy="${2:-}"; shift 2 ;;
	--app) apps+=("${2:-}"); shift 2 ;;
	--vault) vaults+=("${2:-}"); shift 2 ;;
	--dry-run) dry_run=true; shift ;;
	-h | --help) usage ;;
	*) say "unknown argument: $1" >&2; usage ;;
	esac
done
if ! is_guid "$principal"; then
	say "--principal-id must be the object ID (a GUID) of Keyturn's service principal" >&2
	exit 2
fi
for a in "${apps[@]+"${apps[@]}"}"; do
	if ! is_guid "$a"; then
		say "--app $a: not a client ID (GUID); nothing was changed" >&2
		exit 2
	fi
done

# Which kinds of roles the policy names decides which read permissions the
# role lookups need (the same rule as `keyturn doctor`, which warns about
# any permission beyond it).
group=true directory_role=true app_role=true
if [ -n "$policy" ]; then
	if [ ! -r "$policy" ]; then
		say "--policy $policy: cannot read it; nothing was changed" >&2
		exit 2
	fi
	keys="$(sed 's/#.*//' "$policy")"
	for kind in group directory_role app_role; do
		if grep -Eq "(^|[{,[:space:]])${kind}[[:space:]]*:" <<<"$keys"; then
			printf -v "$kind" true
		else
			printf -v "$kind" false
		fi
	done
fi

# The Graph application permissions Keyturn needs, each with why. Nothing
# else: least privilege is a promise.
permissions=("Application.ReadWrite.OwnedBy|add and remove client secrets, only on apps whose owners include Keyturn")
if $group || $directory_role || $app_role; then
	permissions+=("User.Read.All|read the caller's memberships (every role lookup)")
fi
if $group || $app_role; then
	permissions+=("GroupMember.Read.All|check transitive group membership (roles by group, app roles held through groups)")
fi
if $directory_role; then
	permissions+=("RoleManagement.Read.Directory|read the directory roles the caller holds (roles by directory role)")
fi
if $app_role; then
	permissions+=("Application.Read.All|read app role assignments on Keyturn's own service principal (roles by app role)")
fi

command -v az >/dev/null || { say "the Azure CLI (az) is required" >&2; exit 1; }

# Graph's root in the signed-in cloud (public, US Government, China).
graph_url="$(az cloud show --query endpoints.microsoftGraphResourceId -o tsv)"
graph_url="${graph_url%/}"

say "Keyturn's service principal:"
sp_name="$(az ad sp show --id "$principal" --query displayName -o tsv)"
say "  $principal ($sp_name)"

say "Microsoft Graph application permissions:"
graph_sp="$(az ad sp show --id "$graph_app_id" --query id -o tsv)"
held="$(az rest --method GET \
	--uri "$graph_url/v1.0/servicePrincipals/$principal/appRoleAssignments" \
	--query "value[?resourceId=='$graph_sp'].appRoleId" -o tsv)"
wanted_ids=()
for entry in "${permissions[@]}"; do
	perm="${entry%%|*}"
	why="${entry#*|}"
	role_id="$(az ad sp show --id "$graph_app_id" \
		--query "appRoles[?value=='$perm' && contains(allowedMemberTypes, 'Application')].id | [0]" -o tsv)"
	if [ -z "$role_id" ]; then
		say "  $perm: not found among Graph's application permissions" >&2
		exit 1
	fi
	wanted_ids+=("$role_id")
	if grep -qx "$role_id" <<<"$held"; then
		say "  $perm: already granted ($why)"
		continue
	fi
	if change "grant $perm ($why)"; then
		az rest --method POST \
			--uri "$graph_url/v1.0/servicePrincipals/$principal/appRoleAssignments" \
			--headers "Content-Type=application/json" \
			--body "{\"principalId\":\"$principal\",\"resourceId\":\"$graph_sp\",\"appRoleId\":\"$role_id\"}" \
			--output none
	fi
done
# Extra Graph permissions are not removed (someone granted them on purpose),
# but named, with the command that removes them.
while read -r id; do
	[ -n "$id" ] || continue
	if ! printf '%s\n' "${wanted_ids[@]}" | grep -qx "$id"; then
		extra="$(az ad sp show --id "$graph_app_id" --query "appRoles[?id=='$id'].value | [0]" -o tsv)"
		assignment="$(az rest --method GET \
			--uri "$graph_url/v1.0/servicePrincipals/$principal/appRoleAssignments" \
			--query "value[?appRoleId=='$id'].id | [0]" -o tsv)"
		say "  WARNING: also holds $extra, which Keyturn does not need with this policy; unless you know why it is there, remove it:"
		say "    az rest --method DELETE --uri $graph_url/v1.0/servicePrincipals/$principal/appRoleAssignments/$assignment"
	fi
done <<<"$held"

if [ ${#apps[@]} -gt 0 ]; then
	say "Ownership (Application.ReadWrite.OwnedBy works only on apps Keyturn owns):"
fi
for a in "${apps[@]+"${apps[@]}"}"; do
	name="$(az ad app show --id "$a" --query displayName -o tsv)"
	owned="$(az ad app owner list --id "$a" --query "[?id=='$principal'].id | [0]" -o tsv)"
	if [ -n "$owned" ]; then
		say "  $a ($name): Keyturn is already an owner"
	elif change "add Keyturn as an owner of $a ($name)"; then
		az ad app owner add --id "$a" --owner-object-id "$principal"
	fi
done

if [ ${#vaults[@]} -gt 0 ]; then
	say "Key Vault Secrets Officer (on these vaults only):"
fi
for v in "${vaults[@]+"${vaults[@]}"}"; do
	# One value a line, whichever way this az version lays out a list.
	info="$(az keyvault show --name "$v" --query "[id, properties.enableRbacAuthorization]" -o tsv | tr '\t' '\n')"
	scope="$(sed -n 1p <<<"$info")"
	rbac="$(sed -n 2p <<<"$info")"
	if [ "${rbac,,}" != "true" ]; then
		say "  $v: not in RBAC mode; switch it (az keyvault update --name $v --enable-rbac-authorization true) and run this again" >&2
		exit 1
	fi
	assigned="$(az role assignment list --assignee "$principal" --scope "$scope" \
		--role "Key Vault Secrets Officer" --query "[0].id" -o tsv)"
	if [ -n "$assigned" ]; then
		say "  $v: already assigned"
	elif change "assign Key Vault Secrets Officer on $v"; then
		az role assignment create --assignee-object-id "$principal" \
			--assignee-principal-type ServicePrincipal \
			--role "Key Vault Secrets Officer" --scope "$scope" --output none
	fi
done

say "Done. Check the whole setup with: keyturn doctor"
