# cowsim-completion.bash - bash completion for cowsim, for bash-completion
# (installed as completions/cowsim, which it loads on the first <TAB> after
# "cowsim").
#
# Everything offered is read from the cowsim being completed, at completion
# time, as bash-completion's _longopt reads --help: the verbs from `cowsim
# --help` (its "verbs:" list, which cli/cowsim.c prints from commands[]),
# a verb's long options from `cowsim VERB --help`, the preset names from
# `cowsim policies`.  So a new verb, option or preset completes with no edit
# here, and ./build/cowsim completes its own options, not an installed
# one's.  Anything else completes as a file name: traces, INI files, the
# database, output files.

# The verbs of cowsim $1, one per line.
_cowsim_verbs()
{
	"$1" --help 2>/dev/null | awk '
		/^[^ ].*:$/ { in_verbs = (tolower($0) ~ /^(verbs|commands):$/); next }
		/^[ \t]*$/ { in_verbs = 0; next }
		in_verbs && /^  +[a-z][a-z0-9-]*  +[^ ]/ { print $1 }'
}

# Every long option `"$@" --help` mentions (COWSIM [VERB]), one per line.
_cowsim_longopts()
{
	"$@" --help 2>/dev/null |
		grep -oE -- '(^|[^A-Za-z0-9-])--[A-Za-z0-9][A-Za-z0-9-]*' |
		sed 's/^[^-]*//' | sort -u
}

_cowsim()
{
	local cur prev words cword split
	_init_completion -s || return

	local cowsim=${words[0]} verb="" at=0 i
	__expand_tilde_by_ref cowsim
	for ((i = 1; i < cword; i++)); do
		if [[ ${words[i]} != -* ]]; then
			verb=${words[i]} at=$i
			break
		fi
	done

	local list
	if [[ -z $verb ]] || { [[ $verb == help ]] && ((cword == at + 1)); }; then
		if [[ $cur == -* ]]; then
			list=$(_cowsim_longopts "$cowsim")
		else
			list=$(_cowsim_verbs "$cowsim")
		fi
	elif [[ $prev == --policy || $prev == -p ]]; then
		# a comma-separated list: complete its last name
		local head=""
		[[ $cur == *,* ]] && head=${cur%,*},
		list=$("$cowsim" policies 2>/dev/null | awk '/^[a-z0-9]/ { print $1 }')
		mapfile -t COMPREPLY < <(compgen -P "$head" -W "all $list" -- "${cur##*,}")
		return
	elif [[ $prev == --fork-mode ]]; then
		# a comma-separated list of the designs `policies -v` names
		local head=""
		[[ $cur == *,* ]] && head=${cur%,*},
		list=$("$cowsim" policies -v 2>/dev/null |
			sed -n 's/.*\[switches\] fork_mode *fork design: //p' |
			tr ',' '\n' | awk '{ print $1 }')
		mapfile -t COMPREPLY < <(compgen -P "$head" -W "all $list" -- "${cur##*,}")
		return
	elif [[ $cur == -* ]] && ! $split; then
		list=$(_cowsim_longopts "$cowsim" "$verb")
	else
		_filedir
		return
	fi
	mapfile -t COMPREPLY < <(compgen -W "$list" -- "$cur")
} &&
	complete -F _cowsim cowsim
