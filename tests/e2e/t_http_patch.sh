#!/bin/bash
# t_http_patch.sh - PATCH over HTTPS (http/patch.c): curl with the four
# patch types (415 for another, 422 for a failed JSON-patch test, 409 for
# a stale resourceVersion precondition, 400 for a malformed patch), the
# scale and status subresources, server-side apply (create, ownership,
# conflicts, force, removal of a field no longer applied), and the kubectl
# commands that PATCH (1.32 and 1.27): apply (client-side, a second apply
# that changes the image and removes an env var and a label), label,
# annotate, set image, set env, edit, rollout restart/pause/resume,
# cordon/uncordon, patch --type merge|json|strategic, scale, apply
# --server-side; every result checked in the filesystem.  Objects are
# created through the filesystem (POST is another module's).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_http.sh"

cfs_start --hollow-nodes 2 || cfs_abort "server starts and mounts $MNT"
http_env

# p PATH TYPE BODY: PATCH with Content-Type application/TYPE.
p() { a "$1" -X PATCH -H "Content-Type: application/$2" --data-binary "$3"; }
# f KIND NAME PATH: a value of the object as the filesystem shows it.
f() { yget "$MNT/$1/$2.yaml" "$3"; }

D=/apis/apps/v1/namespaces/default/deployments
web_deployment web 2 80 >"$WORK/web.yaml"
check "cp a Deployment into the mount" cp "$WORK/web.yaml" "$MNT/deployments/web.yaml"

# The four types, and the others.
p $D/web merge-patch+json '{"metadata":{"labels":{"team":"a"}}}' >/dev/null
check_eq "merge patch: 200" 200 "$(code)"
check_eq "merge patch: the label in the filesystem" '"a"' "$(f deployments web metadata.labels.team)"
p $D/web merge-patch+json '{"metadata":{"labels":{"team":null}}}' >/dev/null
check_eq "merge patch null: the label removed" "<missing>" "$(f deployments web metadata.labels.team)"
p $D/web json-patch+json '[{"op":"replace","path":"/spec/replicas","value":3},{"op":"add","path":"/metadata/annotations","value":{"example.com/a":"x"}}]' >/dev/null
check_eq "JSON patch: 200" 200 "$(code)"
check_eq "JSON patch: replicas" 3 "$(f deployments web spec.replicas)"
p $D/web json-patch+json '[{"op":"remove","path":"/metadata/annotations/example.com~1a"}]' >/dev/null
check_eq "JSON patch: a ~1 escape" "200 <missing>" "$(code) $(f deployments web 'metadata.annotations.example\.com/a')"
body=$(p $D/web json-patch+json '[{"op":"test","path":"/spec/replicas","value":7},{"op":"replace","path":"/spec/replicas","value":9}]')
check_eq "JSON patch, a failed test: 422 Invalid" "422 Invalid" "$(code) $(printf %s "$body" | jv 'd["reason"]')"
check_eq "JSON patch, a failed test: nothing changed" 3 "$(f deployments web spec.replicas)"
body=$(p $D/web json-patch+json '{"op":"add"}')
check_eq "JSON patch not a list: 400" 400 "$(code)"
body=$(p $D/web xml '<x/>')
check_eq "an unknown patch type: 415 UnsupportedMediaType" "415 UnsupportedMediaType" \
	"$(code) $(printf %s "$body" | jv 'd["reason"]')"
check_contains "a refused PATCH has its line in errors" "$(tail -n 1 "$MNT/errors")" \
	"PATCH /apis/apps/v1/namespaces/default/deployments/web: EINVAL: "
p $D/web merge-patch+json '{"spec":' >/dev/null
check_eq "malformed JSON: 400" 400 "$(code)"
rv=$(a $D/web | jv 'd["metadata"]["resourceVersion"]')
p $D/web merge-patch+json "{\"metadata\":{\"resourceVersion\":\"$rv\",\"labels\":{\"pre\":\"c\"}},\"spec\":{\"replicas\":2}}" >/dev/null
check_eq "a current resourceVersion precondition: 200" 200 "$(code)"
body=$(p $D/web merge-patch+json "{\"metadata\":{\"resourceVersion\":\"$rv\"},\"spec\":{\"replicas\":4}}")
check_eq "a stale resourceVersion precondition: 409 Conflict" "409 Conflict" \
	"$(code) $(printf %s "$body" | jv 'd["reason"]')"
check_eq "409: nothing changed" 2 "$(f deployments web spec.replicas)"
p $D/web merge-patch+json '{"metadata":{"uid":"00000000-0000-0000-0000-000000000000"},"spec":{"replicas":4}}' >/dev/null
check_eq "another uid as precondition: 409" 409 "$(code)"
body=$(p "$D/web?dryRun=All" merge-patch+json '{"spec":{"replicas":6}}')
check_eq "dryRun=All: 200 with the result" "200 6" "$(code) $(printf %s "$body" | jv 'd["spec"]["replicas"]')"
check_eq "dryRun=All: nothing written" 2 "$(f deployments web spec.replicas)"
p $D/web merge-patch+json '{"spec":{"replicas":-1}}' >/dev/null
check_eq "an invalid result: 422" 422 "$(code)"
check_contains "... and its line in errors names the field" "$(tail -n 1 "$MNT/errors")" "spec.replicas"
p $D/web merge-patch+json '{"metadata":{"name":"other"}}' >/dev/null
check_eq "a patch renaming the object: 400" 400 "$(code)"
p $D/nope merge-patch+json '{}' >/dev/null
check_eq "PATCH of a missing object: 404" 404 "$(code)"
head -c 4000000 /dev/zero | tr '\0' a >"$WORK/big"
a $D/web -X PATCH -H "Content-Type: application/merge-patch+json" --data-binary @"$WORK/big" >/dev/null
check_eq "a patch over 3 MiB: 413" 413 "$(code)"

# Strategic merge: containers by name, env by name, ports by containerPort.
p $D/web strategic-merge-patch+json '{"spec":{"template":{"spec":{"containers":[{"name":"nginx","env":[{"name":"A","value":"1"},{"name":"B","value":"2"}],"ports":[{"containerPort":81}]}]}}}}' >/dev/null
check_eq "strategic: 200" 200 "$(code)"
check_eq "strategic: env merged into the container" '"1" "2" "nginx:1.25"' \
	"$(f deployments web spec.template.spec.containers.0.env.0.value) $(f deployments web spec.template.spec.containers.0.env.1.value) $(f deployments web spec.template.spec.containers.0.image)"
check_eq "strategic: ports merged by containerPort" "80 81" \
	"$(f deployments web spec.template.spec.containers.0.ports.0.containerPort) $(f deployments web spec.template.spec.containers.0.ports.1.containerPort)"
p $D/web strategic-merge-patch+json '{"spec":{"template":{"spec":{"containers":[{"name":"nginx","env":[{"$patch":"delete","name":"A"}]}]}}}}' >/dev/null
check_eq "strategic \$patch delete: env A gone, B kept" '"B" <missing>' \
	"$(f deployments web spec.template.spec.containers.0.env.0.name) $(f deployments web spec.template.spec.containers.0.env.1)"
p $D/web strategic-merge-patch+json '{"spec":{"template":{"spec":{"containers":[{"name":"nginx","ports":[{"$patch":"replace"},{"containerPort":90}]}]}}}}' >/dev/null
check_eq "strategic \$patch replace of a list" "90 <missing>" \
	"$(f deployments web spec.template.spec.containers.0.ports.0.containerPort) $(f deployments web spec.template.spec.containers.0.ports.1)"
p $D/web strategic-merge-patch+json '{"spec":{"template":{"spec":{"containers":[{"image":"x"}]}}}}' >/dev/null
check_eq "strategic: an element without its merge key: 400" 400 "$(code)"

# Subresources.
body=$(p $D/web/scale merge-patch+json '{"spec":{"replicas":5}}')
check_eq "PATCH scale: 200, a Scale" "200 Scale 5" "$(code) $(printf %s "$body" | jv 'd["kind"], d["spec"]["replicas"]' | tr -d "(),'")"
check_eq "PATCH scale: replicas in the filesystem" 5 "$(f deployments web spec.replicas)"
p /api/v1/namespaces/default/configmaps/x/scale merge-patch+json '{}' >/dev/null
check_eq "PATCH scale of a kind without one: 404" 404 "$(code)"
p /api/v1/nodes/hollow-1/status strategic-merge-patch+json '{"status":{"capacity":{"example.com/dongle":"3"}}}' >/dev/null
check_eq "PATCH node status: 200" 200 "$(code)"
check_eq "PATCH node status: seen in the filesystem" '"3"' "$(yget "$MNT/nodes/hollow-1.yaml" 'status.capacity.example\.com/dongle')"
p $D/web merge-patch+json '{"status":{"replicas":99}}' >/dev/null
check_not "PATCH of the object ignores status" test "$(f deployments web status.replicas)" = 99

# Server-side apply.
cat >"$WORK/cm.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: ssa
  labels: {a: "1"}
data:
  k1: v1
  k2: v2
EOF
CM=/api/v1/namespaces/default/configmaps
a "$CM/ssa?fieldManager=alice" -X PATCH -H "Content-Type: application/apply-patch+yaml" --data-binary @"$WORK/cm.yaml" >/dev/null
check_eq "apply of a missing object: 201 Created" 201 "$(code)"
check_eq "apply: in the filesystem" '"v2"' "$(f configmaps ssa data.k2)"
check_eq "apply: managedFields names alice, Apply" "alice Apply FieldsV1" \
	"$(a $CM/ssa | jv 'd["metadata"]["managedFields"][0]["manager"], d["metadata"]["managedFields"][0]["operation"], d["metadata"]["managedFields"][0]["fieldsType"]' | tr -d "(),'")"
check_contains "apply: fieldsV1 has f:data f:k1" "$(cat "$WORK/body")" '"f:k1":{}'
# A filesystem write (no managedFields of its own) keeps the ownership.
sed 's/k2: v2/k2: v2\n  k9: fs/' "$WORK/cm.yaml" >"$WORK/cm-fs.yaml"
cp "$WORK/cm-fs.yaml" "$MNT/configmaps/ssa.yaml"
check_eq "a cp into the mount keeps managedFields (alice)" "alice" \
	"$(a $CM/ssa | jv 'd["metadata"]["managedFields"][0]["manager"]')"
body=$(a "$CM/ssa?fieldManager=bob" -X PATCH -H "Content-Type: application/apply-patch+yaml" --data-binary $'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa}\ndata: {k1: other, k3: v3}\n')
check_eq "bob applies alice's field: 409 Conflict" "409 Conflict" "$(code) $(printf %s "$body" | jv 'd["reason"]')"
check_contains "409: the cause names the field" "$body" '".data.k1"'
check_contains "409: the message names the manager" "$body" 'conflict with \"alice\"'
a "$CM/ssa?fieldManager=bob&force=true" -X PATCH -H "Content-Type: application/apply-patch+yaml" --data-binary $'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa}\ndata: {k1: other, k3: v3}\n' >/dev/null
check_eq "force: 200, bob's value" '200 "other"' "$(code) $(f configmaps ssa data.k1)"
a "$CM/ssa?fieldManager=alice" -X PATCH -H "Content-Type: application/apply-patch+yaml" --data-binary $'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa}\ndata: {k2: v2}\n' >/dev/null
check_eq "alice drops k1 (now bob's) and the label: k1 kept, label gone" '200 "other" <missing>' \
	"$(code) $(f configmaps ssa data.k1) $(f configmaps ssa metadata.labels.a)"
a "$CM/ssa" -X PATCH -H "Content-Type: application/apply-patch+yaml" --data-binary @"$WORK/cm.yaml" >/dev/null
check_eq "apply without fieldManager: 400" 400 "$(code)"

# kubectl validates against the server's OpenAPI: without it (before
# http/openapi.c), apply and edit need --validate=false.
a /openapi/v2 -H "Accept: application/json" >/dev/null
VF=
[ "$(code)" = 200 ] || VF=--validate=false
[ -z "$VF" ] || echo "# no /openapi/v2 here: kubectl apply and edit run with $VF"

# kubectl apply of a Service: ports merge by port (one removed, one changed).
cat >"$WORK/svc.yaml" <<'EOF'
apiVersion: v1
kind: Service
metadata:
  name: front
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: 8080}
  - {name: https, port: 443, targetPort: 8443}
EOF
cp "$WORK/svc.yaml" "$MNT/services/front.yaml"
K32=$(kubectl_newest)
$K32 apply $VF -f "$WORK/svc.yaml" >/dev/null 2>&1
sed -e '/name: https/d' -e 's/targetPort: 8080/targetPort: 8081/' "$WORK/svc.yaml" >"$WORK/svc2.yaml"
check_contains "kubectl apply of a Service with a port removed" \
	"$($K32 apply $VF -f "$WORK/svc2.yaml" 2>&1)" "service/front configured"
check_eq "Service ports: 80 now targets 8081, 443 gone" "80 8081 <missing>" \
	"$(f services front spec.ports.0.port) $(f services front spec.ports.0.targetPort) $(f services front spec.ports.1)"
check_not "Service: the cluster IP kept" test "$(f services front spec.clusterIP)" = "<missing>"
for v in $(kubectl_versions); do
	[ "$v" = 1.20 ] && continue # --subresource came in kubectl 1.24
	out=$("$(kubectl_bin "$v")" patch service front --subresource=status --type merge \
		-p "{\"status\":{\"loadBalancer\":{\"ingress\":[{\"ip\":\"10.9.9.${v#1.}\"}]}}}" 2>&1)
	check_contains "kubectl $v patch --subresource=status" "$out" patched
	check_eq "kubectl $v patch --subresource=status: in the filesystem" "\"10.9.9.${v#1.}\"" \
		"$(f services front status.loadBalancer.ingress.0.ip)"
done

# kubectl: each version on its own Deployment.
for v in $(kubectl_versions); do
	k() { "$(kubectl_bin "$v")" "$@"; }
	n=web${v/./}
	web_deployment $n 1 >"$WORK/$n.yaml"
	cat >>"$WORK/$n.yaml" <<'EOF'
        env:
        - name: KEEP
          value: "1"
        - name: DROP
          value: "2"
EOF
	sed -i "s/^  name: $n$/  name: $n\n  labels:\n    keep: \"y\"\n    drop: \"y\"/" "$WORK/$n.yaml"
	cp "$WORK/$n.yaml" "$MNT/deployments/$n.yaml"
	# The first client-side apply of an object made elsewhere patches it
	# (and records the last-applied annotation).
	out=$(k apply $VF -f "$WORK/$n.yaml" 2>&1)
	check_contains "kubectl $v apply (existing object)" "$out" "deployment.apps/$n"
	check_contains "kubectl $v apply: last-applied annotation" \
		"$(f deployments $n 'metadata.annotations.kubectl\.kubernetes\.io/last-applied-configuration')" DROP
	sed -e 's/nginx:1.25/nginx:1.27/' -e '/name: DROP/,+1d' -e '/drop: "y"/d' "$WORK/$n.yaml" >"$WORK/$n-2.yaml"
	out=$(k apply $VF -f "$WORK/$n-2.yaml" 2>&1)
	check_contains "kubectl $v apply again: configured" "$out" "configured"
	check_eq "kubectl $v apply again: image changed" '"nginx:1.27"' "$(f deployments $n spec.template.spec.containers.0.image)"
	check_eq "kubectl $v apply again: env DROP removed, KEEP kept" '"KEEP" <missing>' \
		"$(f deployments $n spec.template.spec.containers.0.env.0.name) $(f deployments $n spec.template.spec.containers.0.env.1)"
	check_eq "kubectl $v apply again: label drop removed, keep kept" '<missing> "y"' \
		"$(f deployments $n metadata.labels.drop) $(f deployments $n metadata.labels.keep)"
	check_contains "kubectl $v label" "$(k label deployment $n tier=front 2>&1)" labeled
	check_eq "kubectl $v label: in the filesystem" '"front"' "$(f deployments $n metadata.labels.tier)"
	k label deployment $n tier- >/dev/null 2>&1
	check_eq "kubectl $v label tier-: removed" '<missing>' "$(f deployments $n metadata.labels.tier)"
	check_contains "kubectl $v annotate" "$(k annotate deployment $n note=hi 2>&1)" annotate
	check_eq "kubectl $v annotate: in the filesystem" '"hi"' "$(f deployments $n metadata.annotations.note)"
	check_contains "kubectl $v set image" "$(k set image deployment/$n nginx=nginx:1.26 2>&1)" "image updated"
	check_eq "kubectl $v set image: in the filesystem" '"nginx:1.26"' "$(f deployments $n spec.template.spec.containers.0.image)"
	check_contains "kubectl $v set env" "$(k set env deployment/$n FOO=bar 2>&1)" "env updated"
	check_eq "kubectl $v set env: FOO added, KEEP kept" '"KEEP" "FOO" "bar"' \
		"$(f deployments $n spec.template.spec.containers.0.env.0.name) $(f deployments $n spec.template.spec.containers.0.env.1.name) $(f deployments $n spec.template.spec.containers.0.env.1.value)"
	check_contains "kubectl $v edit" "$(EDITOR='sed -i s/note:\ hi/note:\ ho/' k edit $VF deployment/$n 2>&1)" edited
	check_eq "kubectl $v edit: in the filesystem" '"ho"' "$(f deployments $n metadata.annotations.note)"
	check_contains "kubectl $v rollout restart" "$(k rollout restart deployment/$n 2>&1)" restarted
	check_not "kubectl $v rollout restart: restartedAt set" test "$(f deployments $n 'spec.template.metadata.annotations.kubectl\.kubernetes\.io/restartedAt')" = "<missing>"
	check_contains "kubectl $v rollout pause" "$(k rollout pause deployment/$n 2>&1)" paused
	check_eq "kubectl $v rollout pause: spec.paused" true "$(f deployments $n spec.paused)"
	check_contains "kubectl $v rollout resume" "$(k rollout resume deployment/$n 2>&1)" resumed
	check_not "kubectl $v rollout resume: not paused" test "$(f deployments $n spec.paused)" = true
	check_contains "kubectl $v patch --type merge" "$(k patch deployment $n --type merge -p '{"spec":{"minReadySeconds":3}}' 2>&1)" patched
	check_eq "kubectl $v patch --type merge: in the filesystem" 3 "$(f deployments $n spec.minReadySeconds)"
	check_contains "kubectl $v patch --type json" "$(k patch deployment $n --type json -p '[{"op":"replace","path":"/spec/minReadySeconds","value":4}]' 2>&1)" patched
	check_eq "kubectl $v patch --type json: in the filesystem" 4 "$(f deployments $n spec.minReadySeconds)"
	check_contains "kubectl $v patch (strategic)" "$(k patch deployment $n -p '{"spec":{"template":{"spec":{"containers":[{"name":"nginx","env":[{"name":"S","value":"s"}]}]}}}}' 2>&1)" patched
	check_eq "kubectl $v patch strategic: env S appended, 3 vars" '"S" <missing>' \
		"$(f deployments $n spec.template.spec.containers.0.env.2.name) $(f deployments $n spec.template.spec.containers.0.env.3)"
	check_contains "kubectl $v patch: a failing json test" "$(k patch deployment $n --type json -p '[{"op":"test","path":"/spec/replicas","value":42}]' 2>&1)" "is invalid"
	check_contains "kubectl $v scale" "$(k scale deployment/$n --replicas=2 2>&1)" scaled
	check_eq "kubectl $v scale: in the filesystem" 2 "$(f deployments $n spec.replicas)"
	# rollout undo is a JSON patch of the template and the annotations.
	out=$(k rollout undo deployment/$n --to-revision=1 2>&1)
	check_contains "kubectl $v rollout undo --to-revision=1" "$out" "rolled back"
	check_eq "kubectl $v rollout undo: revision 1's image and env" '"nginx:1.25" "DROP"' \
		"$(f deployments $n spec.template.spec.containers.0.image) $(f deployments $n spec.template.spec.containers.0.env.1.name)"
	check_contains "kubectl $v cordon" "$(k cordon hollow-1 2>&1)" cordoned
	check_eq "kubectl $v cordon: unschedulable" true "$(yget "$MNT/nodes/hollow-1.yaml" spec.unschedulable)"
	check_contains "kubectl $v uncordon" "$(k uncordon hollow-1 2>&1)" uncordoned
	check_not "kubectl $v uncordon: schedulable" test "$(yget "$MNT/nodes/hollow-1.yaml" spec.unschedulable)" = true
	# Server-side apply of an existing object (a missing one needs no POST either).
	sed -e "s/name: $n$/name: ssa$n/" -e "s/app: $n/app: ssa$n/" "$WORK/$n-2.yaml" >"$WORK/ssa$n.yaml"
	out=$(k apply $VF --server-side -f "$WORK/ssa$n.yaml" 2>&1)
	check_contains "kubectl $v apply --server-side (creates)" "$out" "serverside-applied"
	check_eq "kubectl $v apply --server-side: in the filesystem" 1 "$(f deployments ssa$n spec.replicas)"
	sed -i 's/replicas: 1/replicas: 2/' "$WORK/ssa$n.yaml"
	out=$(k apply $VF --server-side --field-manager other -f "$WORK/ssa$n.yaml" 2>&1)
	check_contains "kubectl $v apply --server-side by another manager: conflict" "$out" "conflict"
	out=$(k apply $VF --server-side --field-manager other --force-conflicts -f "$WORK/ssa$n.yaml" 2>&1)
	check_contains "kubectl $v apply --server-side --force-conflicts" "$out" "serverside-applied"
	check_eq "kubectl $v --force-conflicts: replicas" 2 "$(f deployments ssa$n spec.replicas)"
	# kubectl apply of a missing object creates it (a POST, http/write.c),
	# then patches it.
	web_deployment new$n 1 >"$WORK/new$n.yaml"
	out=$(k apply $VF -f "$WORK/new$n.yaml" 2>&1)
	if [ "$out" = "deployment.apps/new$n created" ]; then
		ok "kubectl $v apply of a missing object: created"
		sed -i 's/nginx:1.25/nginx:1.26/' "$WORK/new$n.yaml"
		check_contains "kubectl $v apply again: configured" "$(k apply $VF -f "$WORK/new$n.yaml" 2>&1)" configured
		check_eq "kubectl $v apply again: the image" '"nginx:1.26"' "$(f deployments new$n spec.template.spec.containers.0.image)"
	else
		echo "# kubectl $v apply of a missing object needs POST (not served here): $out"
	fi
	# kubectl scale is an update: it takes spec.replicas, and an apply of
	# another value then conflicts with it.
	k scale deployment/ssa$n --replicas=3 >/dev/null 2>&1
	sed -i 's/replicas: 2/replicas: 4/' "$WORK/ssa$n.yaml"
	out=$(k apply $VF --server-side --field-manager other -f "$WORK/ssa$n.yaml" 2>&1)
	check_contains "kubectl $v apply --server-side after scale: a conflict on .spec.replicas" "$out" ".spec.replicas"
	check_eq "kubectl $v: the conflict changed nothing" 3 "$(f deployments ssa$n spec.replicas)"
	smf=--show-managed-fields # kubectl 1.21 on; 1.20 always shows them
	[ "$v" = 1.20 ] && smf=
	check_contains "kubectl $v: managedFields lists the updater" \
		"$(k get deployment ssa$n -o jsonpath='{.metadata.managedFields[*].operation}' $smf 2>&1)" Update
done
cfs_done
