"""Full-file round trips of the math / PRM / code / rollout-dump layout adapters on the shared
real data: `verity convert FILE --to <layout>` must reproduce every row (same JSON values, same
key order), and `verity convert FILE` must detect that layout.

Run from the repository root after `cargo build -p verity-cli`:
    SHARED_DATA=../shared/data python3 bench/layouts-roundtrip/round_trip_shared.py
"""
import json, gzip, subprocess, sys, os, glob, tempfile
TMP = tempfile.mkdtemp(prefix="verity-rt-")
V=os.environ.get('VERITY', 'target/debug/verity')
S=os.environ.get('SHARED_DATA', '../shared/data').rstrip('/') + '/'
def load(path):
    op = gzip.open if path.endswith('.gz') else open
    text = op(path,'rt',encoding='utf-8').read()
    t=text.lstrip()
    if t.startswith('['): return json.loads(t)
    if t.startswith('{') and '}\n{' not in t:
        o=json.loads(t)
        for k in ['examples','outputs']:
            if k in o and isinstance(o[k],list): return o[k]
        return [o]
    return [json.loads(l) for l in text.splitlines() if l.strip()]
cases = [
 ('gsm8k/example_model_solutions.jsonl.gz','gsm8k_solutions'),
 ('qwen25-math-eval/eval_rm_maj_example/math_cot_100.jsonl.gz','qwen_eval'),
 *[(p[len(S):],'qwen_eval') for p in glob.glob(S+'skythought-evals/*/*/*.jsonl')],
 ('humaneval/HumanEval.jsonl.gz','humaneval'),
 ('mbpp/mbpp.jsonl','mbpp'),
 ('rllm-code/test/leetcode.json','code_contests'),
 ('rllm-code/test/codeforces.json','code_contests'),
 ('rllm-code/test/code_contests.json.gz','code_contests'),
 ('rllm-code/train/leetcode.json.gz','code_contests'),
 ('openr-prm-samples/samples_prm800k.jsonl','prm800k'),
 ('openr-prm-samples/samples_math-shepherd.jsonl','math_shepherd'),
 ('openr-prm-samples/samples_math-aps.jsonl','math_aps'),
 ('openr-prm-samples/samples_math-aps-tree.jsonl','math_aps'),
 *[(p[len(S):],'mr_gsm8k') for p in glob.glob(S+'mr-gsm8k/*.json')],
 *[(p[len(S):],'bbh') for p in sorted(glob.glob(S+'bbh/*.json'))+sorted(glob.glob(S+'bbh/code-davinci-002-cot/*.json'))],
]
bad=0
for rel, layout in cases:
    src=S+rel
    out=os.path.join(TMP, 'out.jsonl')
    det=subprocess.run([V,'convert',src,'--to',layout,'-o',out,'--no-ledger','-q'],capture_output=True,text=True)
    if det.returncode!=0:
        print('FAIL', rel, det.stderr[-500:]); bad+=1; continue
    a=load(src); b=[json.loads(l) for l in open(out)]
    same = len(a)==len(b) and all(x==y for x,y in zip(a,b))
    order = same and all(list(x.keys())==list(y.keys()) for x,y in zip(a,b))
    # also detection: convert to verity and check lineage.layout
    subprocess.run([V,'convert',src,'-o',os.path.join(TMP, 'rec.jsonl'),'--no-ledger','-q'],capture_output=True)
    layouts=set(json.loads(l)['lineage'].get('layout') for l in open(os.path.join(TMP, 'rec.jsonl'))) if os.path.exists(os.path.join(TMP, 'rec.jsonl')) else None
    print('OK ' if same else 'DIFF', 'order' if order else 'ORDER?', len(a), layouts, rel)
    if not same: bad+=1
print('bad', bad)
