// Scratch (not committed): prints a question's statements with values inlined, for timing.
use numu_query::Limits;
use numu_warehouse::{PlaceholderStyle, Sql, Value};
fn inline(s: &Sql) -> String {
    let (text, values) = s.render(PlaceholderStyle::QuestionMark);
    let mut out = String::new();
    let mut values = values.into_iter();
    for (i, part) in text.split('?').enumerate() {
        if i > 0 {
            out.push_str(&match values.next().unwrap() {
                Value::String(s) => format!("'{}'", s.replace('\'', "\\'")),
                Value::Int64(v) | Value::TimestampMs(v) => v.to_string(),
                Value::UInt64(v) => v.to_string(),
                Value::Float64(v) => format!("{v:?}"),
                Value::Bool(b) => b.to_string(),
            });
        }
        out.push_str(part);
    }
    out
}
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mut v: serde_json::Value = serde_json::from_str(&args[1]).unwrap();
    let kind = v.as_object_mut().unwrap().remove("kind").unwrap();
    let now: i64 = args[2].parse().unwrap();
    let project: u64 = args.get(3).map(|s| s.parse().unwrap()).unwrap_or(1);
    let l = Limits::default();
    let stmts: Vec<Sql> = match kind.as_str().unwrap() {
        "web_analytics" => numu_query::web::plan(&serde_json::from_value(v).unwrap(), project, now, &l)
            .unwrap()
            .statements()
            .to_vec(),
        "trends" => numu_query::trends::plan(&serde_json::from_value(v).unwrap(), project, now, &l)
            .unwrap()
            .statements()
            .to_vec(),
        _ => vec![numu_query::funnels::plan(&serde_json::from_value(v).unwrap(), project, now, &l)
            .unwrap()
            .statement()
            .clone()],
    };
    for (i, s) in stmts.iter().enumerate() {
        std::fs::write(format!("{}.{i}.sql", args[4]), inline(s)).unwrap();
    }
    println!("{} statements", stmts.len());
}
