use helpdesk_rules::condition::*;

fn probe(name: &str, f: fn()) {
    for kib in [64usize, 128, 256, 512, 1024, 2048, 4096] {
        let ok = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "child", "--nocapture"])
            .env("PROBE", name)
            .env("KIB", kib.to_string())
            .output()
            .unwrap()
            .status
            .success();
        if ok {
            println!("{name}: ok at {kib} KiB");
            return;
        }
    }
    let _ = f;
    println!("{name}: fails at 4 MiB");
}

fn run(name: &str) {
    let chain = format!("1{}", " + 1".repeat(999));
    let parens = "(".repeat(2000);
    let worst = {
        let mut s = "1 || 1 && 1 == 1 + 1 * 1".to_owned();
        for _ in 0..64 {
            s = format!("1 || 1 && 1 == 1 + 1 * ({s})");
        }
        s
    };
    let deep64 = format!("{}1{}", "(".repeat(64), ")".repeat(64));
    match name {
        "parens2000" => {
            let _ = compile(&parens);
        }
        "minus2000" => {
            let _ = compile(&"-".repeat(2000));
        }
        "chain_parse" => {
            let e = parse(&chain).unwrap();
            std::mem::forget(e);
        }
        "chain_parse_drop" => {
            let _ = parse(&chain).unwrap();
        }
        "chain_compile" => {
            let c = compile(&chain).unwrap();
            std::mem::forget(c);
        }
        "chain_clone_eq" => {
            let e = parse(&chain).unwrap();
            let f = e.clone();
            assert!(e == f);
            std::mem::forget((e, f));
        }
        "chain_debug" => {
            let e = parse(&chain).unwrap();
            let s = format!("{e:?}");
            assert!(!s.is_empty());
            std::mem::forget(e);
        }
        "worst" => {
            let c = compile(&worst).unwrap();
            c.eval(&Values::new());
        }
        "deep64" => {
            let c = compile(&deep64).unwrap();
            c.eval(&Values::new());
        }
        _ => unreachable!(),
    }
}

#[test]
fn child() {
    let Ok(name) = std::env::var("PROBE") else {
        return;
    };
    let kib: usize = std::env::var("KIB").unwrap().parse().unwrap();
    std::thread::Builder::new()
        .stack_size(kib * 1024)
        .spawn(move || run(&name))
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn probes() {
    for name in [
        "parens2000",
        "minus2000",
        "chain_parse",
        "chain_parse_drop",
        "chain_compile",
        "chain_clone_eq",
        "chain_debug",
        "worst",
        "deep64",
    ] {
        probe(name, || {});
    }
}
