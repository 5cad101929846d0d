//! Compiled and other languages on stdin/stdout tests, and contest-style judging: accepted
//! alternatives, checker programs, compile errors, the compile cache, fail-fast. Languages
//! the machine lacks are skipped with a printed reason (and must be `unknown` for the verifier).

use crate::common::fixture;
use serde_json::json;
use std::time::Duration;
use verity_core::record::{Attempt, ObjectKind, Record, TestCase, TestKind, Tests, Verdict};
use verity_core::verify::Verifier;
use verity_sandbox::harness::compile::CompileCache;
use verity_sandbox::harness::{
    Checker, CodeRunner, ContestCase, ContestSuite, HarnessOptions, Outcome, TestSuite,
};
use verity_sandbox::{CodeVerifier, CodeVerifierOptions, Language, Sandbox, SandboxConfig};

const SUM_CASES: &[(&str, &str)] = &[
    ("2 3\n", "5\n"),
    ("-7 7\n", "0\n"),
    ("1000000000 1000000000\n", "2000000000\n"),
];

fn sum_solution(language: &str) -> &'static str {
    match language {
        "c" => "#include <stdio.h>\nint main(void){long long a,b;scanf(\"%lld %lld\",&a,&b);printf(\"%lld\\n\",a+b);return 0;}\n",
        "cpp" => "#include <bits/stdc++.h>\nint main(){long long a,b;std::cin>>a>>b;std::cout<<a+b<<\"\\n\";}\n",
        "java" => "import java.util.*;\npublic class Sum {\n  public static void main(String[] args) {\n    Scanner in = new Scanner(System.in);\n    long a = in.nextLong(), b = in.nextLong();\n    System.out.println(a + b);\n  }\n}\n",
        "javascript" => "const [a, b] = require('fs').readFileSync(0, 'utf8').trim().split(/\\s+/).map(BigInt);\nconsole.log((a + b).toString());\n",
        "rust" => "use std::io::Read;\nfn main(){let mut s=String::new();std::io::stdin().read_to_string(&mut s).unwrap();let v:Vec<i64>=s.split_whitespace().map(|x|x.parse().unwrap()).collect();println!(\"{}\",v[0]+v[1]);}\n",
        "go" => "package main\nimport \"fmt\"\nfunc main(){var a,b int64\nfmt.Scan(&a,&b)\nfmt.Println(a+b)}\n",
        _ => unreachable!(),
    }
}

/// A sandbox exposing every toolchain this machine has, and the languages found.
fn toolchain_sandbox() -> Option<(Sandbox, Vec<Language>)> {
    let fx = fixture()?;
    let mut languages = Vec::new();
    for name in ["c", "cpp", "java", "javascript", "rust", "go"] {
        match verity_sandbox::toolchains::discover(name) {
            Ok(language) => languages.push(language),
            Err(error) => eprintln!("SKIP {name}: {error}"),
        }
    }
    let mut read_only_paths = fx.python.read_only_paths.clone();
    for language in &languages {
        read_only_paths.extend(language.read_only_paths.iter().cloned());
    }
    let config = SandboxConfig {
        read_only_paths,
        ..SandboxConfig::default()
    };
    Some((Sandbox::new(config, 2).expect("sandbox"), languages))
}

fn stdio(cases: &[(&str, &str)]) -> TestSuite {
    TestSuite::Stdio {
        cases: cases
            .iter()
            .map(|(i, o)| (i.to_string(), o.to_string()))
            .collect(),
    }
}

fn options() -> HarnessOptions {
    HarnessOptions {
        per_test_timeout: Duration::from_secs(10),
        ..HarnessOptions::default()
    }
}

#[test]
fn every_available_language_compiles_once_and_passes_and_compile_errors_are_reported() {
    let Some((sandbox, languages)) = toolchain_sandbox() else {
        return;
    };
    for language in languages {
        let name = language.name.clone();
        let cache = CompileCache::new();
        let runner = CodeRunner::new(&sandbox, language.clone(), options()).with_cache(&cache);
        let report = runner
            .run(sum_solution(&name), &stdio(SUM_CASES))
            .expect("run");
        assert_eq!(
            report.outcome,
            Outcome::Pass,
            "{name}: {report:#?} {}",
            report
                .tests
                .first()
                .and_then(|t| t.message.clone())
                .unwrap_or_default()
        );
        assert_eq!(report.passed, 3, "{name}");
        let compiled = usize::from(language.compile.is_some());
        assert_eq!(
            cache.len(),
            compiled,
            "{name}: one compilation for three cases"
        );
        // The same source again: served from the cache.
        runner
            .run(sum_solution(&name), &stdio(SUM_CASES))
            .expect("run");
        assert_eq!(cache.len(), compiled, "{name}");
        // A wrong program fails; a broken one is a compile error (or a runtime error for node).
        let broken = "this is not a program (\n";
        let report = runner.run(broken, &stdio(SUM_CASES)).expect("run");
        if language.compile.is_some() {
            assert_eq!(report.outcome, Outcome::CompileError, "{name}: {report:#?}");
            let message = report.tests[0].message.as_deref().unwrap_or_default();
            assert!(message.contains("compilation failed"), "{name}: {message}");
        } else {
            assert_eq!(report.outcome, Outcome::RuntimeError, "{name}: {report:#?}");
        }
        eprintln!("{name}: ok");
    }
}

#[test]
fn several_accepted_outputs_checkers_tolerance_and_fail_fast() {
    let Some(fx) = fixture() else { return };
    let runner = CodeRunner::new(&fx.sandbox, fx.python.clone(), options());
    // "Print any divisor > 1 of n": two accepted outputs for 6.
    let suite = TestSuite::Contest(ContestSuite {
        cases: vec![ContestCase {
            input: "6\n".into(),
            accepted: vec!["2\n".into(), "3\n".into()],
        }],
        checker: None,
        time_limit: None,
    });
    let three =
        "n = int(input())\nprint(max(d for d in range(2, n + 1) if n % d == 0 and d < n))\n";
    assert_eq!(
        runner.run(three, &suite).expect("run").outcome,
        Outcome::Pass
    );
    let six = "print(int(input()))\n";
    assert_eq!(runner.run(six, &suite).expect("run").outcome, Outcome::Fail);
    // A checker (testlib convention) accepts any divisor.
    let checker = Checker {
        language: fx.python.clone(),
        source: "import sys\nn = int(open(sys.argv[1]).read())\nout = open(sys.argv[2]).read().split()\n\
                 ok = len(out) == 1 and out[0].lstrip('-').isdigit() and 1 < int(out[0]) < n and n % int(out[0]) == 0\n\
                 print('ok' if ok else 'not a proper divisor: %r' % out, file=sys.stderr)\nsys.exit(0 if ok else 1)\n"
            .into(),
    };
    let checked = |input: &str| {
        TestSuite::Contest(ContestSuite {
            cases: vec![ContestCase {
                input: input.into(),
                accepted: vec!["?".into()],
            }],
            checker: Some(checker.clone()),
            time_limit: None,
        })
    };
    let smallest = "n = int(input())\nprint(min(d for d in range(2, n + 1) if n % d == 0))\n";
    assert_eq!(
        runner.run(smallest, &checked("15\n")).expect("run").outcome,
        Outcome::Pass
    );
    let report = runner.run(six, &checked("15\n")).expect("run");
    assert_eq!(report.outcome, Outcome::Fail);
    assert!(
        report.tests[0]
            .message
            .as_deref()
            .is_some_and(|m| m.contains("not a proper divisor")),
        "{report:?}"
    );
    // Fail-fast: cases after the first failure are not reported.
    let fail_fast = CodeRunner::new(
        &fx.sandbox,
        fx.python.clone(),
        HarnessOptions {
            fail_fast: true,
            parallel_tests: 1,
            ..options()
        },
    );
    let report = fail_fast
        .run(
            "print(1)\n",
            &stdio(&[("", "1"), ("", "2"), ("", "1"), ("", "1")]),
        )
        .expect("run");
    assert_eq!(report.outcome, Outcome::Fail);
    assert_eq!((report.tests.len(), report.total, report.passed), (2, 4, 1));
    // A problem time limit, per case.
    let slow = TestSuite::Contest(ContestSuite {
        cases: vec![ContestCase {
            input: String::new(),
            accepted: vec!["done".into()],
        }],
        checker: None,
        time_limit: Some(Duration::from_millis(500)),
    });
    let report = runner
        .run("import time\ntime.sleep(3)\nprint('done')\n", &slow)
        .expect("run");
    assert_eq!(report.outcome, Outcome::Timeout, "{report:?}");
}

fn stdio_record(language: &str, response: &str) -> Record {
    let mut record = Record::new(format!("sum-{language}"), ObjectKind::RolloutSet);
    record.task.prompt = Some("Read a and b, print a + b.".into());
    record.task.reference.tests = Some(Tests {
        kind: TestKind::Stdio,
        language: language.into(),
        code: None,
        entry_point: None,
        setup: None,
        cases: vec![
            TestCase {
                input: json!("2 3\n"),
                output: json!("5\n"),
            },
            TestCase {
                input: json!("4 4\n"),
                output: json!(["8\n", "8.0\n"]),
            },
        ],
    });
    record
        .attempts
        .push(Attempt::with_response(response.to_string()));
    record
}

#[test]
fn the_code_verifier_takes_the_language_from_the_data_and_the_fence() {
    if fixture().is_none() {
        return;
    }
    let verifier = CodeVerifier::new(CodeVerifierOptions {
        harness: options(),
        ..CodeVerifierOptions::default()
    })
    .expect("verifier");
    let verdict = |record: &Record| {
        let attempt: &Attempt = &record.attempts[0];
        verifier.verify(&record.task, attempt).remove(0)
    };
    if verity_sandbox::toolchains::discover("cpp").is_ok() {
        // Codeforces' compiler name in the data, an untagged fence in the response.
        let cpp = format!("Here:\n```\n{}```\n", sum_solution("cpp"));
        let feedback = verdict(&stdio_record("GNU C++17", &cpp));
        assert_eq!(feedback.verdict, Verdict::Pass, "{feedback:?}");
        // Python data, but the response's fence says C++.
        let fenced = format!("```cpp\n{}```\n", sum_solution("cpp"));
        let feedback = verdict(&stdio_record("python", &fenced));
        assert_eq!(feedback.verdict, Verdict::Pass, "{feedback:?}");
        let broken = verdict(&stdio_record("cpp", "```cpp\nint main( {\n```\n"));
        assert_eq!(broken.verdict, Verdict::Fail);
        assert_eq!(broken.label.as_deref(), Some("compile_error"));
    }
    match verity_sandbox::toolchains::discover("go") {
        Ok(_) => eprintln!("go is installed here: the missing-language check is not exercised"),
        Err(_) => {
            let feedback = verdict(&stdio_record("go", sum_solution("go")));
            assert_eq!(feedback.verdict, Verdict::Unknown, "{feedback:?}");
            let reason = feedback.detail.as_ref().expect("detail")["reason"].to_string();
            assert!(reason.contains("go"), "{reason}");
        }
    }
    let kotlin = verdict(&stdio_record("Kotlin 1.7", "fun main() {}"));
    assert_eq!(kotlin.verdict, Verdict::Unknown);
}
