// Calibration and model cards: what `earshot eval` leaves behind for a model's users.
#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "earshot/eval.hpp"

namespace earshot {

Model with_calibration(const Model& model, float threshold, const nlohmann::json& evaluation) {
  ModelMetadata metadata = model.metadata();
  metadata.default_threshold = threshold;
  if (!metadata.provenance.is_object()) metadata.provenance = nlohmann::json::object();
  metadata.provenance["evaluation"] = evaluation;
  return Model(std::move(metadata), model.members());
}

namespace {

std::string json_value_text(const nlohmann::json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

std::string markdown_row(const std::vector<std::string>& cells) {
  std::string row = "|";
  for (const std::string& cell : cells)
    row += " " + cell + " |";
  return row + "\n";
}

std::string results_table(const std::vector<ConditionResult>& results) {
  const std::vector<std::string> header = summary_table_header();
  std::string table =
      markdown_row(header) + markdown_row(std::vector<std::string>(header.size(), "---"));
  for (const ConditionResult& r : results)
    table += markdown_row(summary_cells(r));
  return table;
}

}  // namespace

std::string model_card_markdown(const Model& model, const std::string& model_name,
                                const std::vector<ConditionResult>& results,
                                const nlohmann::json& context) {
  const ModelMetadata& m = model.metadata();
  const ModelShape& shape = m.shape;
  std::string gru_sizes;
  for (const int size : shape.gru_sizes)
    gru_sizes += fmt::format("{}{}", gru_sizes.empty() ? "" : "x", size);
  const std::size_t networks = model.members().size();
  const std::string ensemble =
      networks > 1 ? fmt::format("mean of {} networks, each ", networks) : std::string();
  std::string card = fmt::format("# Model card: `{}`\n\n", model_name);
  card += fmt::format(
      "- keyword: **{}**\n- network: {}Conv1D {} filters, kernel {}, stride {} -> GRU {} -> "
      "Dense + sigmoid; {} parameters; one output every {:.0f} ms\n"
      "- front end: {} {} bands, window {} samples, hop {} samples at {} Hz\n"
      "- default threshold: {:.4f}\n\n",
      m.keywords.empty() ? "" : m.keywords.front(), ensemble, shape.conv_filters, shape.conv_kernel,
      shape.conv_stride, gru_sizes, networks * shape.num_parameters(), 1000 * model.output_step_s(),
      fmt::format("{}-{}", compression_name(m.frontend.compression), scale_name(m.frontend.scale)),
      m.frontend.feature_dim(), m.frontend.window_samples, m.frontend.hop_samples,
      m.frontend.sample_rate, m.default_threshold);
  card += "## Training\n\n";
  if (m.provenance.is_object()) {
    for (const auto& [key, value] : m.provenance.items()) {
      if (key == "evaluation") continue;
      if (key == "ensemble_of" && value.is_array()) {
        // One line per member: its own command, not its whole provenance.
        for (std::size_t i = 0; i < value.size(); ++i) {
          card += fmt::format("- member {}: `{}`\n", i + 1,
                              json_value_text(value[i].value("command_line", value[i])));
        }
        continue;
      }
      card += fmt::format("- {}: `{}`\n", key, json_value_text(value));
    }
  }
  card += "\n## Evaluation\n\n";
  card += fmt::format(
      "Measured with `earshot eval`: trigger clips mixed into streams of negative speech and "
      "noise; a hit is a detection within [word start, word end + {:g} s]; false accepts per "
      "hour over the audio outside those windows; miss rates at fixed FA/h are linearly "
      "interpolated on the threshold sweep.\n\n",
      kHitToleranceAfter_s);
  card += results_table(results);
  card += "\nDetection latency after the end of the word, at the default threshold:\n\n";
  for (const ConditionResult& r : results)
    card += fmt::format("- {}: {}\n", r.name, latency_text(r.latency_at_default));
  card += "\nConditions:\n\n";
  for (const auto& [key, value] : context.items()) {
    card += fmt::format("- {}: `{}`\n", key, json_value_text(value));
  }
  return card;
}

}  // namespace earshot
